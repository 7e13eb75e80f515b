#pragma once
// The CDI device requests an OCI spec carries in its annotations, the form engines without a CDI
// field use (CRI annotations from Kubernetes device plugins, `ctr run --annotation`):
// key "cdi.k8s.io/<name>", value "vendor.com/class=dev[,vendor.com/class=dev...]"
// (cncf-tags/container-device-interface pkg/cdi/annotations.go).

#include <map>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace hippo::cdi {

inline constexpr std::string_view kAnnotationPrefix = "cdi.k8s.io/";

struct DeviceRequest {
  std::string device;      // "vendor.com/class=name"
  std::string annotation;  // the key that asked for it
};

// The requested devices in annotation-key order, each once (the first key that names it wins).
// A key's name part (after the prefix) must be 1-63 characters, a letter or digit first and
// last, letters, digits, '_', '-', '.' between (the reference's AnnotationKey rule); every
// comma-separated value must be a fully-qualified name. Errors name the annotation:
// `annotation "cdi.k8s.io/gpu": "gpu0" is not a fully-qualified CDI device name ...`.
Result<std::vector<DeviceRequest>> parse_annotations(
    const std::map<std::string, std::string>& annotations);

}  // namespace hippo::cdi
