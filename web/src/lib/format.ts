// Small display helpers shared by the pages.
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "";
  // The api's timestamps are UTC; some come without an offset, which Date would read as local time.
  const utc = /[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`;
  return new Date(utc).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function formatBytes(n: number | null | undefined): string {
  if (n == null) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export const KIND_LABEL: Record<string, string> = {
  resume: "Resume",
  job_description: "Job description",
  mixed: "Mixed",
  behavioural: "Behavioural",
  technical: "Technical",
};
