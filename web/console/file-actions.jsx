// What a draft's owner does to one of its files: describe it, rename it, bring back an older version.
import { useState } from "react";
import { call } from "./api.js";
import { Problem, bytes, useAction, useLoad } from "./ui.jsx";

// A one-field form in a disclosure: its value, trimmed, goes to save(); failures show under it.
function FieldForm({ summary, label, name, initial, button, maxLength, save }) {
  const [problem, run] = useAction();
  const fieldId = `${name}-${summary.replace(/\W+/g, "-")}`;
  const submit = (event) => {
    event.preventDefault();
    const value = new FormData(event.target).get(name).trim();
    run(() => save(value));
  };
  return (
    <details className="file-action">
      <summary>{summary}</summary>
      <form onSubmit={submit}>
        <label htmlFor={fieldId}>{label}</label>
        <input id={fieldId} name={name} defaultValue={initial} maxLength={maxLength} />
        <button type="submit">{button}</button>
      </form>
      <Problem error={problem} />
    </details>
  );
}

// Its description, as the record's pages and manifest show it.
export function Describe({ entry, onSaved }) {
  const save = async (description) => {
    const metadata = { ...entry.metadata, description };
    if (!description) delete metadata.description;
    await call("PUT", entry.links.metadata, metadata);
    onSaved();
  };
  return (
    <FieldForm
      summary={`Describe ${entry.key}`}
      label={`Description of ${entry.key}`}
      name="description"
      initial={entry.metadata.description || ""}
      button="Save description"
      maxLength={1000}
      save={save}
    />
  );
}

// A new key for the same bytes; the record keeps its description and place in the order.
export function Rename({ entry, onRenamed }) {
  const save = async (to) => {
    await call("POST", `${entry.links.self}?rename`, { to });
    onRenamed();
  };
  return (
    <FieldForm
      summary={`Rename ${entry.key}`}
      label={`New name for ${entry.key}`}
      name="to"
      initial={entry.key}
      button="Rename"
      maxLength={1024}
      save={save}
    />
  );
}

// The key's versions, newest first; any older one with bytes can be made current again.
function VersionList({ bucketId, entry, onRestored }) {
  const listing = `/files/${bucketId}?${new URLSearchParams({ versions: "", prefix: entry.key, limit: "1000" })}`;
  const { data, error, reload } = useLoad(() => call("GET", listing), [listing, entry.version_id]);
  const [problem, run] = useAction();
  if (error) return <Problem error={error} />;
  if (!data) return <p className="quiet">Loading…</p>;
  const versions = data.contents.filter((v) => v.key === entry.key).reverse();
  const restore = (version) =>
    run(async () => {
      await call("POST", `${entry.links.self}?${new URLSearchParams({ restore: "", versionId: version.version_id })}`);
      reload();
      onRestored();
    });
  return (
    <>
      <ol className="history">
        {versions.map((version) => (
          <li key={version.version_id}>
            <time dateTime={version.created}>{new Date(version.created).toLocaleString()}</time>{" "}
            {version.delete_marker ? (
              <span className="quiet">deleted</span>
            ) : (
              <>
                {bytes(version.size)}
                {version.checksum ? ` · ${version.checksum.slice(0, 19)}…` : ""}
                {version.is_head ? (
                  <span className="latest"> · current</span>
                ) : (
                  <button
                    type="button"
                    className="quiet-button"
                    onClick={() => restore(version)}
                    aria-label={`Restore the version of ${entry.key} from ${new Date(version.created).toLocaleString()}`}
                  >
                    Restore
                  </button>
                )}
              </>
            )}
          </li>
        ))}
      </ol>
      <Problem error={problem} />
    </>
  );
}

export function History({ bucketId, entry, onRestored }) {
  const [open, setOpen] = useState(false); // listed only once asked for: most rows never are
  return (
    <details className="file-action" onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>History of {entry.key}</summary>
      {open && <VersionList bucketId={bucketId} entry={entry} onRestored={onRestored} />}
    </details>
  );
}
