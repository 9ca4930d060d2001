import { createHash } from 'node:crypto';
import type Srf from 'drachtio-srf';
import type Mrf from 'drachtio-fsmrf';
import type { Logger } from 'pino';
import { BufferedMedia, MEDIA_GONE } from './media';

const TEARDOWN_TIMEOUT_MS = 5000;

/**
 * The header that makes FreeSWITCH take an INVITE (config/freeswitch/dialplan/default.xml): any
 * local process can send its SIP profile an INVITE, and one naming its own address in X-esl-outbound
 * used to get FreeSWITCH's outbound event socket in `full` mode (every API command, root's shell).
 * Its value is derived from FREESWITCH_SECRET as vars.xml derives it (`papgate_invite_key`), so the
 * event socket's password itself never travels in SIP.
 */
export const INVITE_KEY_HEADER = 'X-Papgate-Key';

export function inviteKey(secret: string): string {
  return createHash('sha256').update(`papgate-invite:${secret}`).digest('hex');
}

/**
 * How FreeSWITCH may take the call's media (`strict` or `learn`, see src/domain/media.ts); the
 * dialplan sets the channel's RTP variables from it before the answer, when FreeSWITCH arms them.
 */
export const MEDIA_SOURCE_HEADER = 'X-Papgate-Media';

function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    t = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/**
 * IvrMedia on a FreeSWITCH endpoint (drachtio-fsmrf) and the caller's SIP dialog. DTMF arrives as
 * 'dtmf' events (RFC 2833 / SIP INFO, whatever FreeSWITCH negotiated), also while `playback` runs;
 * with playback_terminators=any FreeSWITCH itself stops a prompt on the first digit (barge-in
 * without a round trip); the digit still reaches us as a DTMF event, because FreeSWITCH fires it
 * when it dequeues the digit, before the playback callback sees it.
 */
export class FsMedia extends BufferedMedia {
  constructor(
    private readonly ep: Mrf.Endpoint,
    private readonly dialog: Srf.Dialog,
    private readonly log: Logger,
  ) {
    super();
    ep.on('dtmf', (e) => this.receiveDigit(String(e.dtmf)));
    ep.on('destroy', () => this.markEnded(MEDIA_GONE));
    dialog.on('destroy', () => this.markEnded('caller_hangup'));
  }

  /** Sets channel variables the IVR relies on; call once before the first play. */
  async prepare(): Promise<void> {
    // uuid_setvar, an API call, rather than the `set` application: an application answers after
    // the channel's queue ran it, with two CHANNEL_EXECUTE events carrying every channel variable.
    const body = (await this.ep.api('uuid_setvar', [this.ep.uuid, 'playback_terminators', 'any'])).getBody();
    if (!body.startsWith('+OK')) throw new Error(`uuid_setvar: ${body.trim()}`);
  }

  /**
   * Where FreeSWITCH moved the call's media (its auto adjust, `remote_audio_ip`), or null: it takes
   * media from the address the SDP named. Throws when FreeSWITCH cannot say.
   */
  async movedTo(): Promise<string | null> {
    const body = (await this.ep.api('uuid_getvar', [this.ep.uuid, 'remote_audio_ip'])).getBody().trim();
    if (body.startsWith('-ERR')) throw new Error(`uuid_getvar: ${body}`);
    return body === '' || body === '_undef_' ? null : body;
  }

  protected async doPlay(file: string): Promise<void> {
    await this.ep.play(file);
  }

  protected interruptPlayback(): void {
    // FreeSWITCH already stopped the prompt (playback_terminators=any); a uuid_break here could
    // race into the next prompt.
  }

  protected async doHangup(): Promise<void> {
    const jobs: Promise<unknown>[] = [];
    jobs.push(within(this.ep.destroy(), TEARDOWN_TIMEOUT_MS).catch(() => undefined));
    if (this.dialog.connected)
      jobs.push(within(this.dialog.destroy(), TEARDOWN_TIMEOUT_MS).catch(() => undefined));
    await Promise.all(jobs);
    this.ep.removeAllListeners('dtmf');
  }
}
