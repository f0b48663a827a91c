// Routes and the signed-in shell (header with navigation and sign out).
import type { ReactNode } from "react";
import { Link, Navigate, NavLink, Route, Routes, useLocation } from "react-router-dom";

import { useAuth } from "./lib/auth";
import { AuthPage } from "./pages/AuthPage";
import { Dashboard } from "./pages/Dashboard";
import { InterviewRoom } from "./pages/InterviewRoom";
import { NewInterview } from "./pages/NewInterview";
import { ReportPage } from "./pages/ReportPage";

export function App() {
  return (
    <Routes>
      <Route path="/signin" element={<AuthPage mode="signin" />} />
      <Route path="/signup" element={<AuthPage mode="signup" />} />
      <Route path="/" element={<Shell><Dashboard /></Shell>} />
      <Route path="/interviews/new" element={<Shell><NewInterview /></Shell>} />
      <Route path="/interviews/:id" element={<Shell><InterviewRoom /></Shell>} />
      <Route path="/interviews/:id/report" element={<Shell><ReportPage /></Shell>} />
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

function NotFound() {
  return (
    <main className="page narrow">
      <h1>Page not found</h1>
      <Link to="/">Back to the dashboard</Link>
    </main>
  );
}
