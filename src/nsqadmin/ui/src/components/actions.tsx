import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Target } from '../api/client.js';
import { errorText } from '../hooks/use-poll.js';

/** A pending admin action awaiting the user's confirmation. */
interface Pending {
  question: string;
  run: () => Promise<{ message?: string }>;
  after?: () => void;
}

/** The outcome of the last action: an error, or a partial-failure warning from nsqadmin. */
export interface ActionOutcome {
  error?: string;
  warning?: string;
}

/**
 * Admin actions behind a confirmation dialog (upstream nsqadmin asks `confirm()` before every
 * destructive action). `ask` opens the dialog; the outcome is shown by the page, never swallowed.
 */
export function useConfirmedActions(onDone: () => void) {
  const [pending, setPending] = useState<Pending | undefined>();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ActionOutcome>({});

  const ask = (question: string, run: Pending['run'], after?: () => void) => setPending({ question, run, after });
  const confirm = async () => {
    if (!pending) return;
    setBusy(true);
    try {
      const res = await pending.run();
      setOutcome({ warning: res.message || undefined });
      setPending(undefined);
      if (pending.after) pending.after();
      else onDone();
    } catch (err) {
      setOutcome({ error: errorText(err) });
      setPending(undefined);
      onDone();
    } finally {
      setBusy(false);
    }
  };
  const dialog = pending ? (
    <ConfirmDialog question={pending.question} busy={busy} onConfirm={confirm} onCancel={() => setPending(undefined)} />
  ) : null;
  return { ask, dialog, outcome };
}

function ConfirmDialog(props: { question: string; busy: boolean; onConfirm: () => void; onCancel: () => void }) {
  const cancelRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    cancelRef.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') props.onCancel();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a click on the backdrop is a mouse shortcut for Cancel; Escape (window listener above) and the Cancel button are the keyboard paths.
    // biome-ignore lint/a11y/useKeyWithClickEvents: see above, Escape is handled on window.
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && props.onCancel()}>
      <div class="modal" role="dialog" aria-modal="true" aria-labelledby="confirm-question" data-testid="confirm-dialog">
        <p id="confirm-question">{props.question}</p>
        <div class="modal-buttons">
          <button type="button" ref={cancelRef} class="btn" onClick={props.onCancel} disabled={props.busy}>
            Cancel
          </button>
          <button type="button" class="btn btn-danger" onClick={props.onConfirm} disabled={props.busy} data-testid="confirm">
            {props.busy ? 'Working…' : 'Confirm'}
          </button>
        </div>
      </div>
    </div>
  );
}

/** A row of admin buttons. */
export function ActionBar(props: { children: ComponentChildren }) {
  return <div class="actions">{props.children}</div>;
}

/**
 * Empty / Delete / Pause-UnPause for a topic or a channel (upstream topic.hbs and channel.hbs),
 * each behind the confirmation dialog; deleting leaves the page via `afterDelete`.
 */
export function QueueActions(props: {
  target: Target;
  paused: boolean;
  ask: (question: string, run: () => Promise<{ message?: string }>, after?: () => void) => void;
  afterDelete: () => void;
}) {
  const { target, ask } = props;
  const noun = target.channel === undefined ? 'Topic' : 'Channel';
  const name = target.channel === undefined ? `topic "${target.topic}"` : `channel "${target.channel}" of topic "${target.topic}"`;
  return (
    <ActionBar>
      <button type="button" class="btn btn-warning" onClick={() => ask(`Empty ${name}? Its queued messages are deleted.`, () => api.act(target, 'empty'))}>
        Empty Queue
      </button>
      <button type="button" class="btn btn-danger" onClick={() => ask(`Delete ${name}?`, () => api.remove(target), props.afterDelete)}>
        Delete {noun}
      </button>
      {props.paused ? (
        <button type="button" class="btn btn-success" onClick={() => ask(`Unpause ${name}?`, () => api.act(target, 'unpause'))}>
          UnPause {noun}
        </button>
      ) : (
        <button type="button" class="btn btn-primary" onClick={() => ask(`Pause ${name}? Its consumers stop receiving messages.`, () => api.act(target, 'pause'))}>
          Pause {noun}
        </button>
      )}
    </ActionBar>
  );
}
