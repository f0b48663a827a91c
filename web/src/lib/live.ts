// REST calls of the voice room and the human interviewer (issue 5). They use authFetch (token,
// signature, refresh) directly with hand-written types, so the web app builds whether or not the
// generated schema has caught up with these endpoints yet.
import { API_BASE, authFetch, errorFromResponse } from "./client";
import type { Turn } from "./types";

export type Controller = "ai" | "human";
export type Seat = "candidate" | "interviewer";

export interface Invite {
  code: string;
  url: string;
  expires_at: string;
}

export interface Participant {
  user_id: string;
  role: string;
  email: string;
}

export interface Suggestion {
  text: string;
  question_index: number | null;
  agent: string | null;
}

export interface Note {
  id?: string;
  text: string;
  scores?: Record<string, number> | null;
  created_at?: string;
  author_id?: string;
}

export interface LiveState {
  interview_id: string;
  status?: "created" | "active" | "ended";
  controller: Controller;
  you: "owner" | "interviewer";
  participants: Participant[];
  suggestion: Suggestion | null;
  notes?: Note[] | null;
  /** The whole transcript so far (the room's log is bounded). */
  turns?: Turn[];
}

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface RtcAnswer {
  sdp: string;
  type: "answer";
  pc_id: string;
  seat: Seat;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(body);
  }
  const response = await authFetch(new Request(`${API_BASE}${path}`, init));
  if (!response.ok) throw await errorFromResponse(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

const iv = (id: string) => `/interviews/${encodeURIComponent(id)}`;

export const live = {
  createInvite: (id: string) => call<Invite>("POST", `${iv(id)}/invites`),
  acceptInvite: (code: string) =>
    call<{ interview_id: string; role: "interviewer" }>("POST", "/invites/accept", { code }),
  state: (id: string) => call<LiveState>("GET", `${iv(id)}/live`),
  takeover: (id: string) => call<LiveState>("POST", `${iv(id)}/takeover`),
  handback: (id: string) => call<LiveState>("POST", `${iv(id)}/handback`),
  humanTurn: (id: string, text: string) => call<Turn>("POST", `${iv(id)}/human-turn`, { text }),
  addNote: (id: string, text: string, scores?: Record<string, number>) =>
    call<Note>("POST", `${iv(id)}/notes`, scores && Object.keys(scores).length ? { text, scores } : { text }),
  notes: (id: string) => call<Note[] | { notes: Note[] }>("GET", `${iv(id)}/notes`),
  rtcConfig: () => call<{ ice_servers: IceServer[] }>("GET", "/rtc/config"),
  rtcOffer: (interviewId: string, sdp: string, pcId?: string) =>
    call<RtcAnswer>("POST", "/rtc/offer", {
      interview_id: interviewId,
      sdp,
      type: "offer",
      ...(pcId ? { pc_id: pcId, restart_pc: true } : {}),
    }),
  rtcHangup: (pcId: string) => call<void>("DELETE", `/rtc/${encodeURIComponent(pcId)}`),
};

/** The invite's full link for copying: the api answers a path (/join/<code>). */
export function inviteLink(invite: Invite, origin: string): string {
  return new URL(invite.url, origin).toString();
}

/** A note's scores for people: "communication 4/5, problem solving 3/5". */
export function formatScores(scores: Record<string, number> | null | undefined): string {
  return Object.entries(scores ?? {})
    .map(([name, value]) => `${name.replaceAll("_", " ")} ${value}/5`)
    .join(", ");
}
