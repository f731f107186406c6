/**
 * The shim's side of `attach`: a unix socket where clients receive the container's output
 * and send input and window sizes (see attach_protocol.ts).
 *
 * @module
 */

import { FRAME, FrameDecoder } from "./attach_protocol.ts";

/** What the server does with what clients send. */
export interface AttachHandlers {
  input(bytes: Uint8Array): void;
  resize(rows: number, columns: number): void;
}

/** Serves attach clients for one container. */
export class AttachServer {
  private readonly listener: Deno.UnixListener;
  private readonly clients = new Map<Deno.UnixConn, Promise<unknown>>();

  constructor(private readonly path: string, private readonly handlers: AttachHandlers) {
    try {
      Deno.removeSync(path);
    } catch { /* not there */ }
    this.listener = Deno.listen({ transport: "unix", path });
    this.accept();
  }

  private async accept(): Promise<void> {
    try {
      for await (const conn of this.listener) {
        this.clients.set(conn, Promise.resolve());
        this.serve(conn);
      }
    } catch {
      // Closed.
    }
  }

  private async serve(conn: Deno.UnixConn): Promise<void> {
    const decoder = new FrameDecoder();
    try {
      for await (const chunk of conn.readable) {
        for (const frame of decoder.push(chunk)) {
          if (frame.type === FRAME.input) this.handlers.input(frame.payload);
          else if (frame.type === FRAME.resize && frame.payload.length === 4) {
            const v = new DataView(frame.payload.buffer, frame.payload.byteOffset, 4);
            this.handlers.resize(v.getUint16(0), v.getUint16(2));
          }
        }
      }
    } catch {
      // The client went away.
    }
    this.drop(conn);
  }

  private drop(conn: Deno.UnixConn): void {
    if (!this.clients.delete(conn)) return;
    try {
      conn.close();
    } catch { /* already closed */ }
  }

  /** Sends output to every client, in order per client. */
  broadcast(chunk: Uint8Array): void {
    for (const [conn, last] of this.clients) {
      const next = last.then(() => conn.write(chunk)).catch(() => this.drop(conn));
      this.clients.set(conn, next);
    }
  }

  /** Ends every client's session (the container exited): after its pending output. */
  async disconnectAll(): Promise<void> {
    const pending = [...this.clients.entries()];
    await Promise.all(pending.map(([, p]) => p));
    for (const [conn] of pending) this.drop(conn);
  }

  /** Stops listening and removes the socket. */
  async close(): Promise<void> {
    await this.disconnectAll();
    try {
      this.listener.close();
    } catch { /* already closed */ }
    try {
      Deno.removeSync(this.path);
    } catch { /* already gone */ }
  }
}
