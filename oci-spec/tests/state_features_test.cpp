#include <gtest/gtest.h>

#include "oci-spec/features.hpp"
#include "oci-spec/state.hpp"

namespace hippo::spec {
namespace {

TEST(RuntimeState, SerializesInRuncFieldOrderAndRoundTrips) {
  RuntimeState s{"1.2.0",
                 "c1",
                 42,
                 Status::running,
                 "/b",
                 "/b/rootfs",
                 "2026-01-01T00:00:00.5Z",
                 StringMap{{"k", "v"}},
                 ""};
  const auto text = to_json(s).dump();
  EXPECT_EQ(text,
            R"({"ociVersion":"1.2.0","id":"c1","pid":42,"status":"running","bundle":"/b",)"
            R"("rootfs":"/b/rootfs","created":"2026-01-01T00:00:00.5Z","annotations":{"k":"v"},)"
            R"("owner":""})");
  auto back = parse_runtime_state(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(to_json(*back).dump(), text);
}

TEST(RuntimeState, RejectsUnknownStatus) {
  auto s = parse_runtime_state(
      R"({"ociVersion":"1","id":"x","pid":1,"status":"zombie","bundle":"/","rootfs":"/","created":"","owner":""})");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "state: status: unknown status \"zombie\"");
}

TEST(Status, NamesRoundTripAndHipposOwnAreWriteOnly) {
  for (auto st :
       {Status::creating, Status::created, Status::running, Status::paused, Status::stopped}) {
    EXPECT_EQ(status_from_string(to_string(st)), st);
  }
  EXPECT_EQ(to_string(Status::incomplete), "incomplete");
  EXPECT_EQ(to_string(Status::corrupt), "corrupt");
  // Another runtime's state document never carries them.
  EXPECT_FALSE(status_from_string("corrupt"));
  EXPECT_FALSE(status_from_string("Running"));
}

TEST(OciState, PidAndAnnotationsAreOptional) {
  OciState s{"1.2.0", "c1", Status::creating, std::nullopt, "/b", std::nullopt};
  EXPECT_EQ(to_json(s).dump(),
            R"({"ociVersion":"1.2.0","id":"c1","status":"creating","bundle":"/b"})");
  auto back = parse_oci_state(to_json(s).dump());
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->pid);
}

TEST(Features, ModelFeaturesRoundTrip) {
  auto f = model_features();
  const auto text = to_json(f).dump();
  auto back = parse_features(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(to_json(*back).dump(), text);
  EXPECT_EQ(f.ociVersionMin, "1.0.0");
  EXPECT_EQ(f.ociVersionMax, "1.2.0");
  EXPECT_EQ(f.hooks->size(), 6u);
  EXPECT_EQ(f.linux->namespaces->size(), 8u);
}

}  // namespace
}  // namespace hippo::spec
