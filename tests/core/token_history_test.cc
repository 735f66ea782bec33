#include "core/token_history.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace tokenfs {
namespace {

HistoryEvent Adjusted(std::string before, std::string after) {
  HistoryEvent event;
  event.kind = HistoryKind::kAdjusted;
  event.time_ns = 1'765'000'000'123'456'789u;
  event.actor_pid = 4242;
  event.actor_user = "S-1-22-1-1000";
  event.file = "privs";
  event.before = std::move(before);
  event.after = std::move(after);
  return event;
}

HistoryEvent Denied(int32_t pid, std::string operation) {
  HistoryEvent event;
  event.kind = HistoryKind::kDenied;
  event.actor_pid = pid;
  event.actor_user = "S-1-22-1-1001";
  event.operation = std::move(operation);
  return event;
}

TEST_CASE("history keeps the newest events up to its limit, numbered") {
  TokenHistory history(3);
  for (int i = 0; i < 5; ++i) {
    history.Append(Adjusted(std::to_string(i), std::to_string(i + 1)));
  }
  const auto events = history.Events();
  REQUIRE(events.size() == 3);
  CHECK(events.front().seq == 3);
  CHECK(events.back().seq == 5);
  CHECK(events.back().before == "4");
  CHECK(history.last_seq() == 5);
}

TEST_CASE("a limit of 0 keeps nothing but still counts changes") {
  TokenHistory history(0);
  CHECK_FALSE(history.Append(Adjusted("a", "b")).has_value());
  CHECK(history.Events().empty());
  CHECK(history.last_seq() == 1);
}

TEST_CASE("repeated refusals by one actor fold into one event") {
  TokenHistory history(2);
  history.Append(Adjusted("a", "b"));
  for (int i = 0; i < 10; ++i) history.Append(Denied(7, "write privs"));
  history.Append(Denied(8, "write privs"));
  const auto events = history.Events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].actor_pid == 7);
  CHECK(events[0].repeat == 10);
  CHECK(events[1].actor_pid == 8);
  CHECK(history.last_seq() == 12);
}

TEST_CASE("an event round-trips through its JSON line with stable keys") {
  HistoryEvent event = Adjusted("SeDebugPrivilege disabled\n",
                                "SeDebugPrivilege enabled\n");
  event.seq = 9;
  const std::string line = HistoryEventJson(event);
  CHECK(line ==
        R"({"seq":9,"time":"2025-12-06T05:46:40.123456789Z",)"
        R"("time_ns":1765000000123456789,"event":"adjusted","actor_pid":4242,)"
        R"("actor_user":"S-1-22-1-1000","file":"privs",)"
        R"("before":"SeDebugPrivilege disabled",)"
        R"("after":"SeDebugPrivilege enabled"})");
  auto parsed = ParseHistoryEventJson(line);
  REQUIRE(parsed);
  event.before = "SeDebugPrivilege disabled";
  event.after = "SeDebugPrivilege enabled";
  CHECK(*parsed == event);

  HistoryEvent derived;
  derived.kind = HistoryKind::kDerived;
  derived.token = 65541;
  derived.operation = "restrict";
  derived.seq = 1;
  auto back = ParseHistoryEventJson(HistoryEventJson(derived));
  REQUIRE(back);
  CHECK(*back == derived);
}

TEST_CASE("malformed history lines are refused, never half-read") {
  for (const char* bad :
       {"", "[]", "{\"seq\":1}", R"({"seq":-1,"time_ns":0,"event":"minted","actor_pid":0})",
        R"({"seq":1,"time_ns":0,"event":"exploded","actor_pid":0})",
        R"({"seq":1,"time_ns":0,"event":"minted","actor_pid":99999999999})",
        R"({"seq":1,"time_ns":0,"event":"denied","actor_pid":1,"repeat":0})",
        R"({"seq":1,"seq":2,"time_ns":0,"event":"minted","actor_pid":0})",
        R"({"seq":1,"time_ns":0,"event":"denied","actor_pid":0,"after":"x"})"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseHistoryEventJson(bad));
  }
}

TEST_CASE("restore keeps the newest and numbers later events after them") {
  TokenHistory history(2);
  std::vector<HistoryEvent> stored;
  for (uint64_t seq : {4u, 5u, 6u}) {
    HistoryEvent event = Adjusted("x", "y");
    event.seq = seq;
    stored.push_back(event);
  }
  history.Restore(stored);
  CHECK(history.Events().front().seq == 5);
  auto appended = history.Append(Adjusted("y", "z"));
  REQUIRE(appended);
  CHECK(appended->seq == 7);
}

TEST_CASE("every kind has a name that parses back") {
  for (auto kind : {HistoryKind::kMinted, HistoryKind::kInherited,
                    HistoryKind::kReminted, HistoryKind::kAdjusted,
                    HistoryKind::kDerived, HistoryKind::kImpersonated,
                    HistoryKind::kReverted, HistoryKind::kInstalled,
                    HistoryKind::kLinked, HistoryKind::kRevoked,
                    HistoryKind::kDenied}) {
    CHECK(ParseHistoryKind(HistoryKindName(kind)) == kind);
  }
}

}  // namespace
}  // namespace tokenfs
