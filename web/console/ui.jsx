// What every view of the console shares: how errors show, loading, and small formatting.
import { useCallback, useEffect, useState } from "react";

export function Problem({ error }) {
  if (!error) return null;
  return (
    <p className="problem" role="alert">
      {error.message}
    </p>
  );
}

export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const reload = useCallback(() => {
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => setState({ data, error: null, loading: false }),
      (error) => setState({ data: null, error, loading: false }),
    );
  }, deps); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(reload, [reload]);
  return { ...state, reload };
}

export function title(record) {
  return (record.metadata && record.metadata.title) || "Untitled";
}

export function bytes(n) {
  if (n == null) return "";
  if (n < 1024) return `${n} bytes`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export function CopyLink({ label, url }) {
  const [copied, setCopied] = useState(false);
  const inputId = `copy-${label.toLowerCase().replace(/\W+/g, "-")}`;
  return (
    <div className="copy">
      <label htmlFor={inputId}>{label}</label>
      <input id={inputId} readOnly value={url} onFocus={(e) => e.target.select()} />
      <button
        type="button"
        onClick={() => navigator.clipboard.writeText(url).then(() => setCopied(true), () => setCopied(false))}
      >
        {copied ? "Copied" : "Copy"}
      </button>
    </div>
  );
}

// An action a person starts (save, delete, move): its failure, shown as the API's message, and a
// runner that clears the last failure, runs the action and keeps what it throws.
export function useAction() {
  const [problem, setProblem] = useState(null);
  const run = useCallback(async (action) => {
    setProblem(null);
    try {
      await action();
    } catch (failure) {
      setProblem(failure);
    }
  }, []);
  return [problem, run, setProblem];
}
