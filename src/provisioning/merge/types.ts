/** An upstream file papgate cannot merge: the phone gets 503, never a file papgate did not check. */
export class FormatError extends Error {}

/**
 * One vendor file format as gate mode merges it (docs/gate-mode.md, "The merge"): the upstream's
 * items, minus every item papgate's own full file sets and every item `owned` names (what papgate
 * must decide even where its file leaves it out: provisioning server and credentials, the accounts'
 * identity), plus papgate's own file's items.
 */
export interface Format {
  /** Throws FormatError when `upstream` is not a file of this format papgate can merge. */
  check(upstream: string): void;
  /** `upstream` (checked) with papgate's full file `own` over it. */
  merge(upstream: string, own: string): string;
  /**
   * The values `upstream` (checked, read once) gives the items settings name `items` (as
   * docs/settings.md writes names), as a setting would hold them; null: the upstream does not set it.
   */
  values(upstream: string, items: readonly string[]): (string | null)[];
}
