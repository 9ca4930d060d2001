/**
 * Closed sets of what the SIP edge reports: how an IVR call ended, what a check-sync NOTIFY came
 * to. They live here, below every layer, so that the edge that answers them and the metrics that
 * count them (src/lib/metrics.ts, a leaf) share one list without the leaf importing an edge.
 */

export type IvrOutcome =
  | 'successful'
  | 'failed'
  | 'blocked'
  | 'not_possible'
  | 'source_limited'
  /** the device's PAP is older than PAP_LIFETIME_DAYS: told "not possible", as for a lock */
  | 'pap_expired'
  | 'no_input'
  | 'invalid_input'
  | 'caller_hangup'
  | 'store_error'
  | 'media_error'
  /** the call's media came from another address than the caller's (src/domain/media.ts): nothing was checked */
  | 'foreign_media';

/** `sent`: the phone answered 2xx; `not_registered` and `error`: nothing was sent. */
export type NotifyResult = 'sent' | 'not_registered' | 'no_answer' | 'rejected' | 'error';
