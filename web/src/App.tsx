// Routes and the signed-in shell (header with navigation and sign out).
import type { ReactNode } from "react";
import { Link, Navigate, NavLink, Route, Routes, useLocation } from "react-router-dom";

import { useAuth } from "./lib/auth";
import { AccountPage } from "./pages/AccountPage";
import { AdminPage } from "./pages/AdminPage";
import { AuthPage } from "./pages/AuthPage";
import { Dashboard } from "./pages/Dashboard";
import { InterviewerView } from "./pages/InterviewerView";
import { InterviewRoom } from "./pages/InterviewRoom";
import { JoinPage } from "./pages/JoinPage";
import { NewInterview } from "./pages/NewInterview";
import { ProgressPage } from "./pages/ProgressPage";
import { ReportPage } from "./pages/ReportPage";
import { TrackerPage } from "./pages/tracker/TrackerPage";

export function App() {
  return (
    <Routes>
      <Route path="/signin" element={<AuthPage mode="signin" />} />
      <Route path="/signup" element={<AuthPage mode="signup" />} />
      <Route path="/" element={<Shell><Dashboard /></Shell>} />
      <Route path="/interviews/new" element={<Shell><NewInterview /></Shell>} />
      <Route path="/interviews/:id" element={<Shell><InterviewRoom /></Shell>} />
      <Route path="/interviews/:id/interviewer" element={<Shell><InterviewerView /></Shell>} />
      <Route path="/join/:code" element={<Shell><JoinPage /></Shell>} />
      <Route path="/interviews/:id/report" element={<Shell><ReportPage /></Shell>} />
      <Route path="/progress" element={<Shell><ProgressPage /></Shell>} />
      <Route path="/tracker/*" element={<Shell><TrackerPage /></Shell>} />
      <Route path="/account" element={<Shell><AccountPage /></Shell>} />
      <Route path="/admin" element={<Shell><AdminOnly><AdminPage /></AdminOnly></Shell>} />
      <Route path="*" element={<Shell><NotFound /></Shell>} />
    </Routes>
  );
}

function Shell({ children }: { children: ReactNode }) {
  const { user, loading, signOut } = useAuth();
  const location = useLocation();
  if (loading) return <p className="muted page">Loading…</p>;
  if (!user) return <Navigate to="/signin" replace state={{ from: location.pathname }} />;
  return (
    <>
      <header className="topbar">
        <Link to="/" className="brand">
          MOCKI
        </Link>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Dashboard
          </NavLink>
          <NavLink to="/interviews/new">New interview</NavLink>
          <NavLink to="/progress">Progress</NavLink>
          <NavLink to="/tracker">Tracker</NavLink>
          <NavLink to="/account">Account</NavLink>
          {user.role === "admin" && <NavLink to="/admin">Admin</NavLink>}
        </nav>
        <span className="muted small user">{user.name || user.email}</span>
        <button type="button" className="ghost small" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      {children}
    </>
  );
}

// The api refuses non-admins anyway (403); this keeps the page itself out of their way.
function AdminOnly({ children }: { children: ReactNode }) {
  const { user } = useAuth();
  if (user?.role !== "admin") return <NotFound />;
  return <>{children}</>;
}

function NotFound() {
  return (
    <main className="page narrow">
      <h1>Page not found</h1>
      <Link to="/">Back to the dashboard</Link>
    </main>
  );
}
