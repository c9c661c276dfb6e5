// A real nats-server for a test file or suite, from the same launcher the CLI uses:
// JetStream, ephemeral loopback port, its own temp store, removed on dispose.
//
//   await using nats = await startNats();
//   const nc = await nats.connect();
import { after, afterEach, before } from "node:test";
import { exportBases, importBases, sharedBasesDir } from "./bases.js";
import { type NatsConnection, type NatsServerHandle, type NatsServerOptions, connectNats, startNatsServer } from "../../hosts/mod.js";

export interface TestNats {
  readonly server: NatsServerHandle;
  readonly url: string;
  /** a connection closed when the TestNats is disposed */
  connect(name?: string): Promise<NatsConnection>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startNats(opts: NatsServerOptions = {}): Promise<TestNats> {
  const server = await startNatsServer(opts);
  const conns: NatsConnection[] = [];
  const stop = async () => {
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
    await server.stop();
  };
  return {
    server,
    get url() {
      return server.url;
    },
    async connect(name) {
      const nc = await connectNats(server, { name });
      conns.push(nc);
      return nc;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Resolves at the connection's next successful reconnect. Call it BEFORE the action that
 * disconnects the client (server restart), then await it.
 */
export function nextReconnect(nc: NatsConnection, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reconnect within ${timeoutMs} ms`)), timeoutMs);
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "reconnect") {
          clearTimeout(timer);
          resolve();
          return;
        }
      }
    })();
  });
}

export interface FileNats {
  /** the server of this test file (set once `before` has run) */
  readonly nats: TestNats;
  /** a connection to it, closed with the server */
  readonly nc: NatsConnection;
}

export interface FileNatsOptions extends NatsServerOptions {
  /**
   * Share pretrained bases with the other files of this test run (bases.ts): the server starts
   * with the bases they pretrained, and the ones pretrained here are passed on after each test.
   * For files whose runs need a base but do not test its pretraining.
   */
  readonly shareBases?: boolean;
}

/**
 * One real nats-server for the whole test file: started in `before`, stopped in `after`.
 *
 *   const env = natsForFile();
 *   test("...", async () => { await openWorkQueue(env.nc, ...) });
 */
export function natsForFile(opts: FileNatsOptions = {}): FileNats {
  const { shareBases, ...serverOpts } = opts;
  const shared = shareBases ? sharedBasesDir() : null;
  let nats: TestNats | undefined;
  let nc: NatsConnection | undefined;
  before(async () => {
    nats = await startNats(serverOpts);
    nc = await nats.connect();
    if (shared) await importBases(nc, shared);
  });
  if (shared) afterEach(async () => {
    if (nc) await exportBases(nc, shared);
  });
  after(() => nats?.stop());
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error("natsForFile: used before its before() hook ran");
    return v;
  };
  return {
    get nats() {
      return ready(nats);
    },
    get nc() {
      return ready(nc);
    },
  };
}
