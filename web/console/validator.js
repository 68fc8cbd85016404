// react-jsonschema-form wants a validator; Ajv, its usual one, compiles schemas with new Function,
// which the console's CSP forbids (no 'unsafe-eval'). The API validates every record against the
// same schema and names each failing field, so the form shows the API's errors (extraErrors) and
// this validator accepts everything it is asked about.

const validator = {
  validateFormData() {
    return { errors: [], errorSchema: {} };
  },
  toErrorList() {
    return [];
  },
  isValid() {
    return true;
  },
  rawValidation() {
    return { errors: undefined, validationError: undefined };
  },
  reset() {},
};

export default validator;

// {"field": "metadata.creators.0.name", "message": ...} -> {creators: {0: {name: {__errors: [...]}}}}
export function errorSchema(errors) {
  const schema = {};
  for (const { field, message } of errors) {
    const path = field.split(".").slice(field.startsWith("metadata") ? 1 : 0);
    let node = schema;
    for (const part of path) node = node[part] = node[part] || {};
    (node.__errors = node.__errors || []).push(message);
  }
  return schema;
}
