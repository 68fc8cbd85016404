// The IIIF access service (/auth/login): a window a viewer on any site opens so that the person
// signs in here; the API then sets its read-only access cookie and the window closes itself, which
// tells the viewer to ask the token service (docs/iiif-auth.md).
import { useEffect, useState } from "react";
import { call } from "./api.js";
import { SignIn } from "./signin.jsx";

export function AccessSignIn({ config }) {
  const already = config.access.signedInAs;
  const [done, setDone] = useState(already ? { sub: already } : null);
  useEffect(() => {
    if (already) window.close();
  }, [already]);
  const [problem, setProblem] = useState(null);
  const asker = config.access.origin;
  const signedIn = async (person) => {
    try {
      await call("POST", "/auth/access");
      setDone(person);
      window.close(); // a window a script opened closes; one the person opened says so below
    } catch (failure) {
      setProblem(failure);
    }
  };
  if (done) {
    return (
      <main>
        <h1>Signed in</h1>
        <p role="status">
          Signed in as <strong>{done.sub}</strong>: viewers show you what you may see. You may close this window; to
          sign in as someone else, sign out in the viewer first.
        </p>
      </main>
    );
  }
  return (
    <>
      <p className="asker">
        {asker ? (
          <>
            A viewer at <strong>{asker}</strong> asks to show you restricted material of this repository.
          </>
        ) : (
          "Sign in to see restricted material of this repository in IIIF viewers."
        )}{" "}
        Signing in lets viewers read, never change, what you may see, until you sign out or it ends.
      </p>
      {problem && <p role="alert">{problem.message}</p>}
      <SignIn config={config} onSignedIn={signedIn} />
    </>
  );
}
