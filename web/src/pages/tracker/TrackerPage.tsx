// The job tracker: its own navigation over mail, board, analytics, todos, jobs and settings.
import { NavLink, Route, Routes } from "react-router-dom";

import { AnalyticsPage } from "./AnalyticsPage";
import { ApplicationPage } from "./ApplicationPage";
import { BoardPage } from "./BoardPage";
import { GmailCallback } from "./GmailCallback";
import { JobsPage } from "./JobsPage";
import { MailPage } from "./MailPage";
import { SettingsPage } from "./SettingsPage";
import { TodosPage } from "./TodosPage";

export function TrackerPage() {
  return (
    <main className="page wide">
      <nav className="subnav" aria-label="Tracker">
        <NavLink to="/tracker" end>
          Board
        </NavLink>
        <NavLink to="/tracker/mail">Mail</NavLink>
        <NavLink to="/tracker/todos">Todos</NavLink>
        <NavLink to="/tracker/analytics">Analytics</NavLink>
        <NavLink to="/tracker/jobs">Jobs for you</NavLink>
        <NavLink to="/tracker/settings">Notifications</NavLink>
      </nav>
      <Routes>
        <Route index element={<BoardPage />} />
        <Route path="mail" element={<MailPage />} />
        <Route path="gmail/callback" element={<GmailCallback />} />
        <Route path="applications/:id" element={<ApplicationPage />} />
        <Route path="todos" element={<TodosPage />} />
        <Route path="analytics" element={<AnalyticsPage />} />
        <Route path="jobs" element={<JobsPage />} />
        <Route path="settings" element={<SettingsPage />} />
      </Routes>
    </main>
  );
}
