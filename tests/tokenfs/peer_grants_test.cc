// /tokens/peer/<fd> over the fake process table: resolving the link of a
// connected socket names the peer's directory and grants the caller QUERY
// on the peer's token; everything else about the socket is refused.
#include "tests/tokenfs/filesystem_fixture.h"

namespace tokenfs::test {
namespace {

using Fixture = FilesystemFixture;

uint64_t PeerIno(uint64_t fd) {
  return Ino(NodeId{Scope::kRoot, Code(NodeCode::kPeerLink), 0, 0, fd});
}

// Alice (process 100) holds fd 5, connected to Bob (process 200).
void Connect(Fixture& f) {
  f.facts.sockets[{100, 5}] = ProcessFacts::SocketPeer{200, 2000, 2000, {}};
}

TEST_CASE("peer: the link names the peer and grants QUERY on its token",
          "[daemon]") {
  Fixture f;
  const uint64_t privs = ProcessIno(200, Text(TokenFile::kPrivs));
  // Without a grant Alice may not read Bob's token.
  CHECK(f.OpenErrno(kAlice, privs, O_RDONLY) == EACCES);
  Connect(f);
  auto link = f.fs.DoReadlink(kAlice, PeerIno(5));
  REQUIRE(link);
  CHECK(std::get<Fs::LinkReply>(*link).target == "../200");
  CHECK(f.ReadFile(kAlice, privs).find("SeChangeNotify") != std::string::npos);
  // The grant covers QUERY (and IMPERSONATE), not ADJUST_PRIVILEGES.
  CHECK(f.OpenErrno(kAlice, privs, O_WRONLY) == EACCES);
}

TEST_CASE("peer: refused for a descriptor that is not a connected socket",
          "[daemon]") {
  Fixture f;
  Connect(f);
  CHECK(ErrnoOf(f.fs.DoReadlink(kAlice, PeerIno(6))) == ENOENT);
  CHECK(f.OpenErrno(kAlice, ProcessIno(200, Text(TokenFile::kPrivs)),
                    O_RDONLY) == EACCES);
}

TEST_CASE("peer: a peer that has exited is not granted", "[daemon]") {
  Fixture f;
  Connect(f);
  f.facts.tasks.erase(200);
  CHECK(ErrnoOf(f.fs.DoReadlink(kAlice, PeerIno(5))) == ENOENT);
}

TEST_CASE("peer: a peer whose identity changed since it connected is refused",
          "[daemon]") {
  Fixture f;
  // Bob connected as uid 3000 and is now uid 2000: Alice may not inspect
  // him, so no grant.
  f.facts.sockets[{100, 5}] = ProcessFacts::SocketPeer{200, 3000, 3000, {}};
  CHECK(ErrnoOf(f.fs.DoReadlink(kAlice, PeerIno(5))) == EACCES);
  CHECK(f.OpenErrno(kAlice, ProcessIno(200, Text(TokenFile::kPrivs)),
                    O_RDONLY) == EACCES);
  // Root may inspect anyone: the same change does not stop its grant.
  f.facts.sockets[{1, 5}] = ProcessFacts::SocketPeer{200, 3000, 3000, {}};
  auto link = f.fs.DoReadlink(kRoot, PeerIno(5));
  REQUIRE(link);
  CHECK(std::get<Fs::LinkReply>(*link).target == "../200");
}

TEST_CASE("peer: a pinned peer must still be the same incarnation",
          "[daemon]") {
  Fixture f;
  // The pin names process 200 in another incarnation (pidfs inode 99,
  // while the registry's has instance 0): the peer has been replaced.
  f.facts.sockets[{100, 5}] = ProcessFacts::SocketPeer{
      200, 2000, 2000, ProcessFacts::PidfdProcess{200, 99}};
  CHECK(ErrnoOf(f.fs.DoReadlink(kAlice, PeerIno(5))) == ENOENT);
  f.facts.sockets[{100, 5}] = ProcessFacts::SocketPeer{
      200, 2000, 2000, ProcessFacts::PidfdProcess{200, 0}};
  REQUIRE(f.fs.DoReadlink(kAlice, PeerIno(5)));
}

}  // namespace
}  // namespace tokenfs::test
