// Corpus replay and bounded mutation driver for the fuzz targets when
// libFuzzer is not available (g++ builds, CI).
//
// Usage: <target>_replay [--mutations N] [--seed S] CORPUS_DIR_OR_FILE...
// Runs LLVMFuzzerTestOneInput on every corpus file, then on N deterministic
// mutations (bit flips, byte insertions and deletions, splices) of them. A
// crash or sanitizer report fails the test; the exit status is 0 otherwise.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<uint8_t> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void Mutate(std::vector<uint8_t>& input, std::mt19937_64& random,
            const std::vector<std::vector<uint8_t>>& corpus) {
  const int kinds = 5;
  const int steps = 1 + static_cast<int>(random() % 4);
  for (int step = 0; step < steps; ++step) {
    switch (random() % kinds) {
      case 0:  // flip a bit
        if (!input.empty()) input[random() % input.size()] ^= static_cast<uint8_t>(1u << (random() % 8));
        break;
      case 1:  // overwrite a byte with an interesting value
        if (!input.empty()) {
          static const uint8_t kValues[] = {0, 1, 0x7f, 0x80, 0xff, '-', ';', ')', '(', ':'};
          input[random() % input.size()] = kValues[random() % sizeof kValues];
        }
        break;
      case 2:  // insert a random byte
        input.insert(input.begin() + static_cast<long>(input.empty() ? 0 : random() % (input.size() + 1)),
                     static_cast<uint8_t>(random()));
        break;
      case 3:  // delete a range
        if (!input.empty()) {
          const size_t start = random() % input.size();
          const size_t length = 1 + random() % std::min<size_t>(8, input.size() - start);
          input.erase(input.begin() + static_cast<long>(start), input.begin() + static_cast<long>(start + length));
        }
        break;
      default:  // splice with another corpus entry
        if (!corpus.empty()) {
          const auto& other = corpus[random() % corpus.size()];
          if (!other.empty()) {
            const size_t cut = input.empty() ? 0 : random() % input.size();
            const size_t from = random() % other.size();
            input.resize(cut);
            input.insert(input.end(), other.begin() + static_cast<long>(from), other.end());
          }
        }
        break;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 20000;
  uint64_t seed = 1;
  std::vector<std::vector<uint8_t>> corpus;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--mutations") == 0 && i + 1 < argc) {
      mutations = std::atol(argv[++i]);
    } else if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else {
      const std::filesystem::path path(argv[i]);
      if (std::filesystem::is_directory(path)) {
        for (const auto& entry : std::filesystem::directory_iterator(path)) {
          if (entry.is_regular_file()) corpus.push_back(ReadFile(entry.path()));
        }
      } else {
        corpus.push_back(ReadFile(path));
      }
    }
  }
  for (const auto& input : corpus) LLVMFuzzerTestOneInput(input.data(), input.size());
  std::mt19937_64 random(seed);
  for (long i = 0; i < mutations && !corpus.empty(); ++i) {
    std::vector<uint8_t> input = corpus[random() % corpus.size()];
    Mutate(input, random, corpus);
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  std::printf("replayed %zu corpus inputs and %ld mutations\n", corpus.size(), mutations);
  return 0;
}
