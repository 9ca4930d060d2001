export function Status(props: { ok?: string | null; error?: string | null }) {
  return (
    <div aria-live="polite" class="status-line">
      {props.ok && <p class="ok">{props.ok}</p>}
      {props.error && (
        <p class="error" role="alert">
          {props.error}
        </p>
      )}
    </div>
  );
}
