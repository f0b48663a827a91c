// The signed-in account's own room `user:<id>` (docs/realtime.md): every Socket.IO connection joins
// it on connect, so the page only listens. Its events carry no seq and are not logged: after a
// reconnect the page reloads over REST (`onReconnect`).
import { useEffect, useRef, useState } from "react";
import { io } from "socket.io-client";

import { refreshTokens, tokenStore } from "./client";

export type UserRoomStatus = "connecting" | "live" | "reconnecting" | "closed";

export function useUserRoom(
  event: string,
  onEvent: (data: unknown) => void,
  onReconnect?: () => void,
): UserRoomStatus {
  const [status, setStatus] = useState<UserRoomStatus>("connecting");
  // The latest callbacks, without reconnecting when the page re-renders.
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const reconnected = useRef(onReconnect);
  reconnected.current = onReconnect;

  useEffect(() => {
    let closed = false;
    let connectedBefore = false;
    const socket = io({
      path: "/socket.io",
      auth: (cb) => cb({ token: tokenStore.get()?.access_token ?? "" }),
      transports: ["websocket", "polling"],
    });
    socket.on("connect", () => {
      setStatus("live");
      // Whatever happened while this device was away is only in the database.
      if (connectedBefore) reconnected.current?.();
      connectedBefore = true;
    });
    socket.on("disconnect", (reason) => {
      if (closed) return;
      setStatus("reconnecting");
      if (reason === "io server disconnect") socket.connect();
    });
    socket.on("connect_error", (err: Error & { data?: { code?: string } }) => {
      const code = err.data?.code;
      if (code === undefined) return; // a transport error: socket.io-client retries by itself
      void (async () => {
        if (code === "token_expired" && (await refreshTokens()) && !closed) socket.connect();
        else setStatus("closed");
      })();
    });
    socket.on(event, (data: unknown) => handler.current(data));
    return () => {
      closed = true;
      socket.removeAllListeners();
      socket.disconnect();
    };
  }, [event]);

  return status;
}
