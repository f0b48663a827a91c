// Run a callback every `ms` while `active`, waiting for each run to finish before scheduling the next.
import { useEffect, useRef } from "react";

export function usePolling(callback: () => Promise<void>, ms: number, active: boolean): void {
  const latest = useRef(callback);
  useEffect(() => {
    latest.current = callback;
  });

  useEffect(() => {
    if (!active) return;
    let stopped = false;
    let timer: number | undefined;
    const tick = async () => {
      await latest.current().catch(() => undefined);
      if (!stopped) timer = window.setTimeout(tick, ms);
    };
    timer = window.setTimeout(tick, ms);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [ms, active]);
}
