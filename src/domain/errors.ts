/** An input that a caller sent and that papgate refuses; `message` is safe to show to that caller. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}
