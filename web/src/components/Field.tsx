import type { ComponentChildren } from 'preact';

export function Field(props: {
  id: string;
  label: string;
  error?: string | undefined;
  children: (aria: {
    id: string;
    'aria-invalid'?: boolean;
    'aria-describedby'?: string;
  }) => ComponentChildren;
}) {
  const errId = `${props.id}-error`;
  return (
    <div class={`field${props.error ? ' invalid' : ''}`}>
      <label for={props.id}>{props.label}</label>
      {props.children({
        id: props.id,
        ...(props.error ? { 'aria-invalid': true, 'aria-describedby': errId } : {}),
      })}
      {props.error && (
        <span class="field-error" id={errId}>
          {props.error}
        </span>
      )}
    </div>
  );
}
