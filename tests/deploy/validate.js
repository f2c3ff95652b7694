// Validates a YAML stream of Kubernetes objects (stdin) against the API's
// schemas: kubernetes-models for the built-in kinds,
// @kubernetes-models/prometheus-operator for PodMonitor and PrometheusRule.
// Prints "ok <apiVersion> <kind> <name>" per object, or every problem, and
// exits 1 when any object fails or has a kind this script does not know
// (an object nothing checked must not pass). Run by deploy_test.py and, for
// the pods of deploy/platforms/, guide_test.py.
"use strict";

const fs = require("fs");
const YAML = require("yaml");

const models = {
  "v1/Namespace": require("kubernetes-models/v1/Namespace").Namespace,
  "v1/ServiceAccount": require("kubernetes-models/v1/ServiceAccount").ServiceAccount,
  "v1/ConfigMap": require("kubernetes-models/v1/ConfigMap").ConfigMap,
  "v1/Service": require("kubernetes-models/v1/Service").Service,
  "v1/Pod": require("kubernetes-models/v1/Pod").Pod,
  "apps/v1/DaemonSet": require("kubernetes-models/apps/v1/DaemonSet").DaemonSet,
  "apps/v1/Deployment": require("kubernetes-models/apps/v1/Deployment").Deployment,
  "policy/v1/PodDisruptionBudget": require("kubernetes-models/policy/v1/PodDisruptionBudget").PodDisruptionBudget,
  "monitoring.coreos.com/v1/PodMonitor":
    require("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor").PodMonitor,
  "monitoring.coreos.com/v1/PrometheusRule":
    require("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule").PrometheusRule,
};

let failed = false;
const documents = YAML.parseAllDocuments(fs.readFileSync(0, "utf8"));
for (const doc of documents) {
  if (doc.errors.length) {
    doc.errors.forEach((e) => console.log(`yaml: ${e.message}`));
    failed = true;
    continue;
  }
  const object = doc.toJS();
  if (object === null) continue;
  const id = `${object.apiVersion} ${object.kind} ${object.metadata && object.metadata.name}`;
  const Model = models[`${object.apiVersion}/${object.kind}`];
  if (!Model) {
    console.log(`unknown kind: ${id}`);
    failed = true;
    continue;
  }
  try {
    new Model(object).validate();
    console.log(`ok ${id}`);
  } catch (e) {
    console.log(`invalid ${id}: ${e.message}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
