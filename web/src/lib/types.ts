// Names for the api's bodies, taken from the generated schema by path so they follow it exactly.
import type { paths } from "../api/schema";

type JsonOf<R> = R extends { content: { "application/json": infer B } } ? B : never;

export type User = JsonOf<paths["/api/v1/users/me"]["get"]["responses"][200]>;
export type TokenPair = JsonOf<paths["/api/v1/auth/login"]["post"]["responses"][200]>;
export type DocumentOut = JsonOf<paths["/api/v1/documents/{document_id}"]["get"]["responses"][200]>;
export type DocumentKind = DocumentOut["kind"];
export type UploadKey = JsonOf<paths["/api/v1/documents/upload-keys"]["post"]["responses"][201]>;
export type InterviewOut = JsonOf<paths["/api/v1/interviews/{interview_id}"]["get"]["responses"][200]>;
export type InterviewListItem = JsonOf<paths["/api/v1/interviews"]["get"]["responses"][200]>[number];
export type InterviewCreate = JsonOf<paths["/api/v1/interviews"]["post"]["requestBody"]>;
export type Turn = InterviewOut["turns"][number];
export type Report = JsonOf<paths["/api/v1/interviews/{interview_id}/report"]["get"]["responses"][200]>;
export type ReportItem = Report["items"][number];
export type Progress = JsonOf<paths["/api/v1/progress"]["get"]["responses"][200]>;
export type ProgressPoint = Progress["interviews"][number];
export type WeakPoint = Progress["weak_points"][number];
