// What the global setup gets back from each way of obtaining a database server.
export interface TestServer {
  /** Superuser URL: postgres://postgres:…@127.0.0.1:port/postgres or mysql://root:…@127.0.0.1:port/test. */
  readonly adminUrl: string;
  /** Server log while the run lasts (null for a server we did not start). */
  readonly logPath: string | null;
  /** Stops what we started and removes its files; a no-op for a server given by URL. */
  stop(): Promise<void>;
}

/** A server named by an environment variable: used as is, never stopped. */
export const externalServer = (adminUrl: string): TestServer => ({ adminUrl, logPath: null, stop: () => Promise.resolve() });
