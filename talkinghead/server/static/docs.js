// The API reference, drawn from the app's own /openapi.json: no CDN, works offline.
"use strict";

const $ = (id) => document.getElementById(id);

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function resolve(spec, schema) {
  if (schema && schema.$ref) return spec.components.schemas[schema.$ref.split("/").pop()];
  return schema || {};
}

function typeOf(spec, schema) {
  schema = resolve(spec, schema);
  if (schema.anyOf) return schema.anyOf.map((s) => typeOf(spec, s)).filter((t) => t !== "null").join(" or ");
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (schema.type === "array") return "list of " + typeOf(spec, schema.items);
  if (schema.format === "binary") return "file";
  return schema.type || "object";
}

function table(spec, rows) {
  const out = element("table");
  const head = out.createTHead().insertRow();
  for (const title of ["name", "in", "type", "description"]) head.append(element("th", title));
  const body = out.createTBody();
  for (const row of rows) {
    const line = body.insertRow();
    const name = element("td");
    name.append(element("code", row.name + (row.required ? " *" : "")));
    line.append(name, element("td", row.where), element("td", typeOf(spec, row.schema)),
      element("td", row.description || resolve(spec, row.schema).description || ""));
  }
  return out;
}

function fields(spec, operation) {
  const rows = (operation.parameters || []).map((p) => ({ name: p.name, where: p.in, required: p.required,
    schema: p.schema, description: p.description }));
  const content = (operation.requestBody || {}).content || {};
  for (const [mediaType, media] of Object.entries(content)) {
    const schema = resolve(spec, media.schema);
    for (const [name, property] of Object.entries(schema.properties || {})) {
      rows.push({ name, where: mediaType.startsWith("multipart") ? "form" : "body",
        required: (schema.required || []).includes(name), schema: property, description: property.description });
    }
  }
  return rows;
}

function endpoint(spec, path, method, operation, index) {
  const id = (method + path).replace(/[^a-z0-9]+/gi, "-");
  const box = element("section", undefined, "endpoint");
  box.id = id;
  box.setAttribute("aria-labelledby", id + "-title");
  const title = element("h2");
  title.id = id + "-title";
  title.append(element("span", method.toUpperCase(), "method " + method), path);
  box.append(title, element("p", operation.summary || ""));
  if (operation.description) box.append(element("p", operation.description, "description"));
  const rows = fields(spec, operation);
  if (rows.length) box.append(element("h3", "Parameters"), table(spec, rows));
  const answers = element("ul");
  for (const [code, response] of Object.entries(operation.responses || {})) {
    answers.append(element("li", code + ": " + (response.description || "")));
  }
  box.append(element("h3", "Responses"), answers);
  const link = element("a", method.toUpperCase() + " " + path);
  link.href = "#" + id;
  const item = element("li");
  item.append(link);
  index.append(item);
  return box;
}

async function draw() {
  let spec;
  try {
    spec = await (await fetch("/openapi.json")).json();
  } catch (err) {
    $("docs-status").textContent = "Could not load /openapi.json: " + err.message;
    return;
  }
  $("docs-status").textContent = spec.info.title + " " + spec.info.version + ". " + (spec.info.description || "");
  const body = $("docs-body");
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      body.append(endpoint(spec, path, method, operation, $("docs-index")));
    }
  }
}

draw();
