// Who may see a record and its files: chosen on the draft, fixed once it is published.
import { useState } from "react";
import { ApiError, saveDraft } from "./api.js";
import { Problem } from "./ui.jsx";

const WHO = { public: "Anyone", restricted: "Its owners only" };

// In words, as a published record shows it.
export function accessSummary(access) {
  const record = access.record === "public" ? "Anyone may see this record" : "Only its owners may see this record";
  if (access.record !== "public") return `${record}.`;
  if (access.files === "public") return `${record} and its files.`;
  const tier = access.degraded_size ? `, and anyone its images at most ${access.degraded_size} pixels a side` : "";
  return `${record}; only its owners its files${tier}.`;
}

function Choice({ name, legend, value, onChange }) {
  return (
    <fieldset className="choice">
      <legend>{legend}</legend>
      {Object.entries(WHO).map(([option, label]) => (
        <label key={option}>
          <input type="radio" name={name} value={option} checked={value === option} onChange={() => onChange(option)} />
          {label}
        </label>
      ))}
    </fieldset>
  );
}

export function AccessForm({ record, onSaved }) {
  const [access, setAccess] = useState({ record: "public", files: "public", ...record.access });
  const [tiered, setTiered] = useState(Boolean(record.access.degraded_size));
  const [size, setSize] = useState(String(record.access.degraded_size || 400));
  const [problem, setProblem] = useState(null);
  const [saved, setSaved] = useState(false);
  // A smaller copy means something only where the record is seen and its files are not.
  const offersTier = access.record === "public" && access.files === "restricted";
  const save = async (event) => {
    event.preventDefault();
    setProblem(null);
    setSaved(false);
    const chosen = { record: access.record, files: access.files };
    if (offersTier && tiered) chosen.degraded_size = Number(size);
    try {
      await saveDraft(record, { access: chosen });
      setSaved(true);
      onSaved();
    } catch (failure) {
      setProblem(failure);
    }
  };
  const details = problem instanceof ApiError ? problem.errors : [];
  return (
    <form className="access" onSubmit={save}>
      <Choice name="record-access" legend="Who may see the record, once published" value={access.record} onChange={(record) => setAccess({ ...access, record })} />
      <Choice name="files-access" legend="Who may see its files" value={access.files} onChange={(files) => setAccess({ ...access, files })} />
      {offersTier && (
        <fieldset className="choice">
          <legend>A smaller copy of its images</legend>
          <label>
            <input type="checkbox" checked={tiered} onChange={(event) => setTiered(event.target.checked)} />
            Let anyone see its images scaled down, also in IIIF viewers
          </label>
          {tiered && (
            <label>
              At most this many pixels a side (64 to 2048)
              <input type="number" min="64" max="2048" step="1" required value={size} onChange={(event) => setSize(event.target.value)} />
            </label>
          )}
        </fieldset>
      )}
      <Problem error={problem} />
      {details.length > 0 && (
        <ul className="problem">
          {details.map((detail) => (
            <li key={`${detail.field} ${detail.message}`}>{detail.message}</li>
          ))}
        </ul>
      )}
      <button type="submit">Save access</button>
      <p role="status" className="quiet">
        {saved && "Saved."}
      </p>
    </form>
  );
}
