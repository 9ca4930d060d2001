/**
 * The connections to FreeSWITCH's event socket (drachtio-fsmrf), one per FREESWITCH_HOSTS entry,
 * each retried for ever with a capped backoff and its outage logged once; what is connected goes
 * into the MediaPool, which chooses among them. service.ts assembles this with the rest.
 */
import net from 'node:net';
import type Mrf from 'drachtio-fsmrf';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { MediaPool } from './mediapool';

const RETRY_MIN_MS = 500;
/** The longest wait between two attempts, FreeSWITCH's here and drachtio-server's (service.ts). */
export const RETRY_MAX_MS = 5000;

/**
 * Resolves once FreeSWITCH's event socket greets (`Content-Type: auth/request`): a socket that is
 * accepted but silent, as while FreeSWITCH starts up, is not yet worth drachtio-fsmrf's connect.
 */
function probe(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    let heard = '';
    const done = (err?: Error) => {
      s.removeAllListeners();
      s.destroy();
      if (err) reject(err);
      else resolve();
    };
    s.setTimeout(timeoutMs, () => done(new Error(`no greeting from ${host}:${port} within ${timeoutMs} ms`)));
    s.on('data', (chunk: Buffer) => {
      heard = (heard + chunk.toString('latin1')).slice(-256);
      if (heard.includes('auth/request')) done();
    });
    s.once('end', () => done(new Error(`${host}:${port} closed without a greeting`)));
    s.once('error', (err) => done(err));
  });
}

/**
 * Throws when papgate cannot listen on `address:port` now. drachtio-fsmrf's own listener has no
 * error handler (a port in use would end the process), and FreeSWITCH connects back only to the
 * listeners its PAPGATE_LISTENERS names, so a port taken by another program is a configuration
 * error to say, not a port to move away from.
 */
function listenable(address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new ListenerUnavailable(
          `cannot listen on ${address}:${port} (FREESWITCH_LISTEN_ADDRESS, FREESWITCH_LISTEN_PORT): ${err.code ?? err.message}`,
        ),
      ),
    );
    s.listen(port, address, () => s.close(() => resolve()));
  });
}

class ListenerUnavailable extends Error {}

/**
 * How long a connection to FreeSWITCH's event socket may take once it greeted (probe).
 * drachtio-fsmrf's connect settles only on FreeSWITCH's answer or a socket error: a FreeSWITCH that
 * took the socket and said nothing (seen while it started up again after a crash) left papgate
 * waiting for ever, without IVR. Long enough that a busy FreeSWITCH answers first: a connect that
 * completes after it has its listener closed, but would meanwhile hold the listener's port.
 */
const MEDIA_CONNECT_TIMEOUT_MS = 15_000;

/** `connecting`, or an error after `ms`; a MediaServer that connects after that is closed. */
function within(connecting: Promise<Mrf.MediaServer>, ms: number): Promise<Mrf.MediaServer> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new Error(`FreeSWITCH's event socket did not answer within ${ms} ms`));
    }, ms);
    connecting.then(
      (m) => {
        clearTimeout(timer);
        if (late) closeMediaServer(m);
        else resolve(m);
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!late) reject(err as Error);
      },
    );
  });
}

/** Closes a MediaServer for good: drachtio-modesl would otherwise keep reconnecting on its own. */
export function closeMediaServer(ms: Mrf.MediaServer): void {
  const conn = ms.conn;
  try {
    if (conn) {
      conn.closing = true;
      if (conn.reconnectVars?.retryTimer) clearTimeout(conn.reconnectVars.retryTimer);
    }
    ms.disconnect();
  } catch {
    // disconnect() throws on a socket already closed; the server is dropped either way.
  }
}

export interface MediaConnectorDeps {
  readonly mrf: Mrf;
  readonly freeswitch: Config['sip']['freeswitch'];
  /** Where each connected server goes (and leaves when its connection ends). */
  readonly media: MediaPool<Mrf.MediaServer>;
  readonly log: Logger;
  /** True once the service stops: no more attempts, a late connection is closed. */
  readonly stopped: () => boolean;
  /** A wait the service cuts short when it stops. */
  readonly sleep: (ms: number) => Promise<void>;
  /** After each successful connection. */
  readonly onConnected: () => void;
}

/** Connects server `i` (an index in FREESWITCH_HOSTS), and again each time its connection ends. */
export function mediaConnector(deps: MediaConnectorDeps): (i: number) => Promise<void> {
  const { mrf, freeswitch, media, log, stopped, sleep, onConnected } = deps;
  /** Per FreeSWITCH: its outage was logged (once, until it is back). */
  const mediaDown = freeswitch.servers.map(() => false);
  const connectMedia = async (i: number): Promise<void> => {
    const fs = freeswitch.servers[i]!;
    let delay = RETRY_MIN_MS;
    while (!stopped()) {
      try {
        await probe(fs.host, fs.port, 2000);
        const listenPort = freeswitch.listenPort + i;
        await listenable(freeswitch.listenAddress, listenPort);
        const m = await within(
          mrf.connect({
            address: fs.host,
            port: fs.port,
            secret: freeswitch.secret,
            listenAddress: freeswitch.listenAddress,
            listenPort,
          }),
          MEDIA_CONNECT_TIMEOUT_MS,
        );
        if (stopped()) {
          closeMediaServer(m);
          return;
        }
        m.on('error', (err: Error) =>
          log.debug({ err: err.message, server: fs.label }, 'media server error'),
        );
        m.once('end', () => {
          if (media.server(i) !== m) return;
          media.set(i, null);
          mediaDown[i] = true;
          closeMediaServer(m);
          if (!stopped()) {
            log.error(
              { server: fs.label, connected: media.connectedCount(), configured: media.size },
              media.connectedCount() === 0
                ? 'FreeSWITCH connection lost; IVR calls answered 503 until it is back'
                : 'FreeSWITCH connection lost; new IVR calls go to the other FreeSWITCH until it is back',
            );
            void connectMedia(i);
          }
        });
        media.set(i, m);
        log.info(
          { host: fs.host, port: fs.port },
          mediaDown[i] ? 'FreeSWITCH connection restored' : 'connected to FreeSWITCH',
        );
        mediaDown[i] = false;
        onConnected();
        return;
      } catch (err) {
        const fields = { err: (err as Error).message, host: fs.host, port: fs.port };
        if (!mediaDown[i])
          log.error(
            fields,
            err instanceof ListenerUnavailable
              ? "cannot take FreeSWITCH's connections back; retrying"
              : 'FreeSWITCH unreachable; retrying',
          );
        else log.debug(fields, 'FreeSWITCH retry failed');
        mediaDown[i] = true;
        await sleep(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  };
  return connectMedia;
}
