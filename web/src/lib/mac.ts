/** The API keeps a MAC as 12 bare hex digits; device labels and people pair them with colons. */
export const colonMac = (m: string) => m.replace(/(..)(?!$)/g, '$1:');
