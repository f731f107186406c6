/**
 * Passing the caller's signals on to a container process, as Docker's sig-proxy does.
 *
 * The proxy is installed before the process exists: a signal that arrives while the
 * container is still being created or started is held and delivered as soon as there is a
 * process to deliver it to, instead of killing the CLI and orphaning the container.
 *
 * @module
 */

import { kill, SIGNALS } from "../../ffi/libc.ts";

/** Signals a foreground `run` or `exec` passes on. */
export const PROXIED_SIGNALS: Deno.Signal[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
];

/** Forwards the caller's signals to one process, once it is known. */
export class SignalProxy implements Disposable {
  private target?: number;
  private pending: number[] = [];
  private readonly handlers = new Map<Deno.Signal, () => void>();

  constructor(signals: Deno.Signal[] = PROXIED_SIGNALS) {
    for (const sig of signals) {
      const handler = () => this.deliver(SIGNALS[sig]);
      Deno.addSignalListener(sig, handler);
      this.handlers.set(sig, handler);
    }
  }

  private deliver(signal: number): void {
    if (this.target === undefined) this.pending.push(signal);
    else kill(this.target, signal);
  }

  /** From now on signals go to `pid`; those held so far are delivered now. */
  forwardTo(pid: number): void {
    this.target = pid;
    for (const signal of this.pending.splice(0)) kill(pid, signal);
  }

  /** Removes the handlers: the caller's signals have their default effect again. */
  [Symbol.dispose](): void {
    for (const [sig, handler] of this.handlers) Deno.removeSignalListener(sig, handler);
    this.handlers.clear();
  }
}
