/** A red alert for a failed request; nothing when there is no error. */
export function ErrorAlert(props: { error?: string }) {
  if (!props.error) return null;
  return (
    <div class="alert alert-error" role="alert" data-testid="error">
      <strong>Error:</strong> {props.error}
    </div>
  );
}

/** A yellow alert for a partial failure (`message` of a 200 reply) or a notice. */
export function WarningAlert(props: { message?: string }) {
  if (!props.message) return null;
  return (
    <div class="alert alert-warning" role="status" data-testid="warning">
      {props.message}
    </div>
  );
}

/** Everything a page reports: its last action's outcome, then its data's error or warning. */
export function PageAlerts(props: { outcome?: { error?: string; warning?: string }; error?: string; message?: string }) {
  return (
    <>
      <ErrorAlert error={props.outcome?.error} />
      <WarningAlert message={props.outcome?.warning} />
      <ErrorAlert error={props.error} />
      <WarningAlert message={props.message} />
    </>
  );
}
