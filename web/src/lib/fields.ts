/**
 * The form field an API error belongs beside: `accounts[0].password` is the password input (it
 * was shown under the SIP server's), `model` the model's; `fallback` when the error names none.
 */
export function formField(apiField: string | undefined, fallback: string): string {
  if (apiField === undefined) return fallback;
  const sub = /^accounts\[\d+\]\.(\w+)$/.exec(apiField)?.[1];
  if (sub !== undefined) return sub === 'authUser' ? 'user' : sub;
  return apiField === 'accounts' ? 'server' : apiField;
}
