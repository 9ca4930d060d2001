import type { Logger } from 'pino';
import type { Language } from '../domain/device';
import type { Mac } from '../domain/mac';
import type { IvrOutcome } from '../domain/outcomes';
import { PAP_LENGTH } from '../domain/pap';
import { strangerText } from '../domain/text';
import type { AttemptReply } from '../store/auth';
import { CallEnded, MEDIA_GONE, type IvrMedia } from './media';
import { promptPath, type Prompt } from './prompts';

export interface IvrSessionOptions {
  readonly media: IvrMedia;
  readonly store: {
    attemptPap(
      mac: Mac,
      pap: string,
      ip: string | null,
      actor: string,
      channel: 'ivr',
      opts?: { source?: string },
    ): Promise<AttemptReply>;
  };
  /** Where the call comes from (`sip:<ip>` or `pbx:<ip>`), counted against the guessing limits. */
  readonly source?: string;
  /** Where the phone is (see router.ts): what a success puts on the temporary whitelist; null: none. */
  readonly address: string | null;
  readonly mac: Mac;
  readonly callId: string;
  readonly language: Language;
  readonly promptsDir: string;
  readonly timeouts: {
    readonly firstDigitTimeoutMs: number;
    readonly interDigitTimeoutMs: number;
    readonly overallTimeoutMs: number;
  };
  /** 'not_possible': the routing decided the device cannot authenticate now; play that and end. */
  readonly mode: 'ivr' | 'not_possible';
  readonly log: Logger;
  /**
   * Writes an info line that a caller causes with each call or entry (default: to `log`); the router
   * gives each client its share per kind of line (LogLimit), as anyone who fetched a minimal file
   * may call.
   */
  readonly logLine?: (fields: object, msg: string) => void;
  /**
   * Whether the call's media still comes from the caller (see mediaFromCaller in
   * src/domain/media.ts), asked before each entry counts; false: the entry was (at least partly)
   * typed by someone else, and is not checked. Default: always.
   */
  readonly mediaFromCaller?: () => Promise<boolean>;
  /** Called after teardown when the PAP was accepted (sends the phone its check-sync NOTIFY). */
  readonly onSuccess?: (mac: Mac) => Promise<void> | void;
  /** Entries with no digits in a row before giving up (not counted as attempts); default 2. */
  readonly maxEmptyEntries?: number;
  /** Entries that cannot be a PAP (not 6 digits) per call before giving up (not counted as attempts). */
  readonly maxInvalidEntries?: number;
}

/**
 * One authentication call (docs/calls.md, "IVR"): prompt, collect the PAP, verify atomically, answer.
 * Every exit path (success, lock, caller hang-up, media loss, store error) ends in teardown(),
 * which is idempotent; every await is raced against the end of the call by the media layer.
 */
export class IvrSession {
  private torn: Promise<void> | null = null;
  private outcome: IvrOutcome | null = null;

  constructor(private readonly o: IvrSessionOptions) {}

  get result(): IvrOutcome | null {
    return this.outcome;
  }

  async run(): Promise<IvrOutcome> {
    const { log } = this.o;
    try {
      this.outcome =
        this.o.mode === 'not_possible'
          ? await this.say('not_possible', 'not_possible')
          : await this.dialogue();
    } catch (err) {
      if (err instanceof CallEnded || this.o.media.isEnded) {
        // FreeSWITCH dying under the call is not the caller's doing; operators must see it as such.
        const reason = err instanceof CallEnded ? err.reason : this.o.media.endReason;
        this.outcome = reason === MEDIA_GONE ? 'media_error' : 'caller_hangup';
      } else {
        log.warn({ err: (err as Error).message }, 'ivr: media failure');
        this.outcome = 'media_error';
      }
    } finally {
      await this.teardown();
    }
    this.line({ outcome: this.outcome }, 'ivr: call finished');
    if (this.outcome === 'successful' && this.o.onSuccess) {
      try {
        await this.o.onSuccess(this.o.mac);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'ivr: post-success action failed');
      }
    }
    return this.outcome;
  }

  /** Ends media and dialog once, whoever calls first. */
  teardown(): Promise<void> {
    if (this.torn === null) this.torn = this.o.media.hangup();
    return this.torn;
  }

  /**
   * The audit trail's actor: the Call-ID, which operators find in the log lines of the call too, as
   * the caller chose it but safe to show (strangerText) and at most 64 characters: a drill stored
   * 2 KB of markup, an escape sequence and a U+202E that reversed the console's "By" column.
   */
  private actor(): string {
    return `ivr:${strangerText(this.o.callId, 64)}`;
  }

  private line(fields: object, msg: string): void {
    if (this.o.logLine) this.o.logLine(fields, msg);
    else this.o.log.info(fields, msg);
  }

  private prompt(p: Prompt): string {
    return promptPath(this.o.promptsDir, this.o.language, p);
  }

  private async say(p: Prompt, outcome: IvrOutcome): Promise<IvrOutcome> {
    await this.o.media.play(this.prompt(p));
    return outcome;
  }

  /** Races a non-media promise (the store) against the end of the call. */
  private async guard<T>(p: Promise<T>): Promise<T> {
    const media = this.o.media;
    const ended = media.ended.then((reason) => {
      throw new CallEnded(reason);
    });
    ended.catch(() => undefined);
    return Promise.race([p, ended]);
  }

  private async dialogue(): Promise<IvrOutcome> {
    const { media, log } = this.o;
    // A caller who missed the first prompt hears it once more with the whole first-digit timeout;
    // a third round rarely helped anyone, and silent calls held a channel 44 s each (now 30 s).
    const maxEmpty = this.o.maxEmptyEntries ?? 2;
    const maxInvalid = this.o.maxInvalidEntries ?? 3;
    let empty = 0;
    let invalid = 0;
    for (;;) {
      await media.play(this.prompt('enter_pap'), { bargeIn: true });
      const entry = await media.collectDigits({ ...this.o.timeouts, maxDigits: PAP_LENGTH });
      if (entry.digits === '' && !entry.tooLong) {
        empty += 1;
        log.debug({ end: entry.end, empty }, 'ivr: empty entry');
        if (empty >= maxEmpty) return this.say('goodbye', 'no_input');
        continue;
      }
      empty = 0;
      if (entry.tooLong || entry.digits.length !== PAP_LENGTH) {
        // Cannot be a PAP: not an attempt on the device, but bounded per call.
        invalid += 1;
        this.line({ end: entry.end, length: entry.digits.length, invalid }, 'ivr: entry is not a PAP');
        if (invalid >= maxInvalid) return this.say('goodbye', 'invalid_input');
        await media.play(this.prompt('incorrect'), { bargeIn: true });
        continue;
      }
      if (this.o.mediaFromCaller && !(await this.guard(this.o.mediaFromCaller()))) {
        // Digits from another address than the caller's: neither checked nor counted against the
        // device, whose owner is on the call; the call ends so that nothing else can be typed in.
        log.warn('ivr: media from another address than the caller; entry not checked');
        return this.say('not_possible', 'foreign_media');
      }
      let reply: AttemptReply;
      try {
        reply = await this.guard(
          this.o.store.attemptPap(this.o.mac, entry.digits, this.o.address, this.actor(), 'ivr', {
            source: this.o.source,
          }),
        );
      } catch (err) {
        if (err instanceof CallEnded) throw err;
        // Fail closed: never accept when the store cannot say yes.
        log.error({ err: (err as Error).message }, 'ivr: store error during PAP attempt');
        return this.say('not_possible', 'store_error');
      }
      this.line({ outcome: reply.outcome, attemptsLeft: reply.attemptsLeft }, 'ivr: PAP attempt');
      switch (reply.outcome) {
        case 'successful':
          return this.say('success', 'successful');
        case 'wrong_pap':
          await media.play(this.prompt('incorrect'), { bargeIn: true });
          continue;
        case 'failed':
          return this.say('not_possible', 'failed');
        case 'blocked':
          return this.say('not_possible', 'blocked');
        case 'source_limited':
          return this.say('not_possible', 'source_limited');
        // no prompt of its own (prompts/ holds recordings): the lock's
        case 'pap_expired':
          return this.say('not_possible', 'pap_expired');
        default:
          // not_required (authenticated meanwhile by another path) or unknown_device (deleted meanwhile)
          return this.say('not_possible', 'not_possible');
      }
    }
  }
}
