#include "core/cow_vector.h"

#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "core/token.h"

namespace tokenfs {
namespace {

using Strings = CowVector<std::string>;

TEST_CASE("a copy shares the buffer until one side changes") {
  Strings original{"a", "b", "c"};
  Strings copy = original;
  CHECK(copy.SharesWith(original));

  copy.push_back("d");
  CHECK_FALSE(copy.SharesWith(original));
  CHECK(original == std::vector<std::string>{"a", "b", "c"});
  CHECK(copy == std::vector<std::string>{"a", "b", "c", "d"});
}

TEST_CASE("every change unshares first") {
  Strings original{"a", "b", "c"};

  Strings by_index = original;
  by_index.Mutable()[1] = "x";
  CHECK(original[1] == "b");
  CHECK(by_index[1] == "x");

  Strings by_iterator = original;
  *by_iterator.Mutable().begin() = "y";
  CHECK(original.front() == "a");
  CHECK(by_iterator.front() == "y");

  Strings by_mutable = original;
  by_mutable.Mutable().clear();
  CHECK(original.size() == 3);
  CHECK(by_mutable.empty());

  Strings by_pop = original;
  by_pop.pop_back();
  CHECK(original.back() == "c");
  CHECK(by_pop.back() == "b");

  Strings by_clear = original;
  by_clear.clear();
  CHECK(original.size() == 3);
  CHECK(by_clear.empty());
}

TEST_CASE("reading never copies, even through a non-const object") {
  Strings original{"a", "b"};
  Strings copy = original;
  std::string joined;
  for (const auto& item : copy) joined += item;
  CHECK(joined == "ab");
  CHECK(copy[0] == "a");
  CHECK(copy.vector().size() == 2);
  CHECK(copy.SharesWith(original));
}

TEST_CASE("insert and erase take positions from either interface") {
  Strings items{"a", "b", "c", "d"};
  Strings copy = items;
  const Strings& view = copy;

  // A position taken from the const view before the buffer is unshared.
  auto after = copy.erase(view.begin() + 1);
  CHECK(*after == "c");
  CHECK(copy == std::vector<std::string>{"a", "c", "d"});
  CHECK(items == std::vector<std::string>{"a", "b", "c", "d"});

  auto inserted = copy.insert(view.begin() + 1, std::string("B"));
  CHECK(*inserted == "B");
  CHECK(copy == std::vector<std::string>{"a", "B", "c", "d"});

  copy.erase(copy.begin() + 2, copy.end());
  CHECK(copy == std::vector<std::string>{"a", "B"});

  std::vector<std::string> more{"y", "z"};
  copy.insert(copy.end(), more.begin(), more.end());
  CHECK(copy == std::vector<std::string>{"a", "B", "y", "z"});

  Strings empty;
  empty.insert(empty.end(), std::string("only"));
  CHECK(empty == std::vector<std::string>{"only"});
}

TEST_CASE("equality compares elements, not buffers") {
  Strings a{"x", "y"};
  Strings b{"x", "y"};
  CHECK_FALSE(a.SharesWith(b));
  CHECK(a == b);
  b.push_back("z");
  CHECK_FALSE(a == b);
  CHECK(Strings{} == Strings(std::vector<std::string>{}));
  CHECK(Strings{}.vector().empty());
}

TEST_CASE("a copied token's groups stay its own when the original changes") {
  Token parent;
  parent.groups = {SidAndAttributes{}, SidAndAttributes{}};
  parent.groups.Mutable()[0].attributes = 7;
  Token child = parent;
  CHECK(child.groups.SharesWith(parent.groups));

  parent.groups.Mutable()[0].attributes = 0;
  parent.groups.pop_back();
  CHECK(child.groups.size() == 2);
  CHECK(child.groups[0].attributes == 7);
}

TEST_CASE("copies changed on different threads do not disturb each other") {
  Strings original(64, "seed");
  std::vector<Strings> copies(4, original);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < copies.size(); ++i) {
    threads.emplace_back([&copies, i] {
      for (int round = 0; round < 200; ++round) {
        Strings again = copies[i];
        again.Mutable()[0] = std::to_string(i);
        copies[i] = again;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (size_t i = 0; i < copies.size(); ++i) {
    CHECK(copies[i][0] == std::to_string(i));
    CHECK(copies[i].size() == 64);
  }
  CHECK(original[0] == "seed");
}

}  // namespace
}  // namespace tokenfs
