import { useEffect, useRef } from 'preact/hooks';
import { t } from '../i18n';
import { signal } from '../signal';

/** A confirmation the keyboard can answer: a modal <dialog>, Cancel focused first, Esc cancels. */
type Answer = boolean | 'extra';
const confirmation = signal<{ message: string; extra?: string; resolve: (ok: Answer) => void } | null>(null);
/** true: yes; 'extra': the second way to say yes, labelled `extra`, where one is offered; false: cancel. */
export function confirm(message: string, extra?: string): Promise<Answer> {
  return new Promise((resolve) => confirmation.set({ message, ...(extra ? { extra } : {}), resolve }));
}

export function ConfirmDialog() {
  const c = confirmation.use();
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (c && ref.current && !ref.current.open) ref.current.showModal();
  }, [c]);
  const close = (ok: Answer) => {
    ref.current?.close();
    c?.resolve(ok);
    confirmation.set(null);
  };
  if (!c) return null;
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-text" onCancel={() => close(false)}>
      <p id="confirm-text">{c.message}</p>
      <div class="buttons">
        <button type="button" autoFocus onClick={() => close(false)}>
          {t('confirm.cancel')}
        </button>
        <button type="button" class="danger" onClick={() => close(true)}>
          {t('confirm.ok')}
        </button>
        {c.extra && (
          <button type="button" class="danger" onClick={() => close('extra')}>
            {c.extra}
          </button>
        )}
      </div>
    </dialog>
  );
}
