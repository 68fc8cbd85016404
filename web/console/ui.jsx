// What every view of the console shares: how errors show, loading, and small formatting.
import { useCallback, useEffect, useRef, useState } from "react";

export function Problem({ error }) {
  if (!error) return null;
  return (
    <p className="problem" role="alert">
      {error.message}
    </p>
  );
}

// What load() answers for these deps. What other deps loaded is never shown for these (a new
// version's page would otherwise show, and upload into, the previous version's bucket until its
// own listing arrives), nor is a late answer for them kept; a reload keeps what is shown until
// its answer comes, so a failed poll does not take the page away.
export function useLoad(load, deps) {
  const key = JSON.stringify(deps);
  const latest = useRef(key);
  latest.current = key;
  const [state, setState] = useState({ key: null, data: null, error: null });
  const reload = useCallback(() => {
    const settle = (data, error) =>
      setState((shown) => {
        if (latest.current !== key) return shown; // an answer for deps no longer shown
        const kept = shown.key === key ? shown.data : null;
        return { key, data: error ? kept : data, error };
      });
    load().then((data) => settle(data, null), (error) => settle(null, error));
  }, [key]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(reload, [reload]);
  const mine = state.key === key;
  return { data: mine ? state.data : null, error: mine ? state.error : null, loading: !mine, reload };
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

export function CopyLink({ label, url, id }) {
  const [copied, setCopied] = useState(false);
  const inputId = `copy-${id || label.toLowerCase().replace(/\W+/g, "-")}`;
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
