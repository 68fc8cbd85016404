// Views by location hash (#/records/ID): the console is one page the API serves at /.
import { useEffect, useState } from "react";

export function useRoute() {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const changed = () => setHash(window.location.hash);
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
}

export function go(...parts) {
  window.location.hash = "/" + parts.map(encodeURIComponent).join("/");
}
