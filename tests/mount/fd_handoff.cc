// fd_handoff: opens a tokenfs file as one identity and writes to it as
// another, to check that tokenfs authorizes writes with the identity of
// whoever OPENED the file: a privileged program tricked into writing to a
// descriptor an unprivileged one opened (or the reverse) must not act with
// the writer's rights. A FUSE WRITE names the writing thread, not whoever
// opened the descriptor, so tokenfs records the opener's identity at open
// and refuses a write from any other identity.
//
// Usage (as root): fd_handoff MODE MOUNT UID GID COMMAND
//   user-opens  the child (UID/GID) opens MOUNT/<child pid>/privs and passes
//               the descriptor to root over SCM_RIGHTS; root writes COMMAND.
//   root-opens  root opens MOUNT/<child pid>/privs and passes the descriptor
//               to the child (UID/GID), which writes COMMAND.
//   user-both   control: the child opens and writes itself.
// Prints "write ok" or "write errno NAME (text)", then the child's privs as
// root reads them after the write, each line prefixed "privs ". Exits 0
// when the hand-off ran (whatever the write did), 2 on a setup failure.
#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "fd_handoff: " << what << ": " << std::strerror(errno) << "\n";
  std::exit(2);
}

// A message of one data byte with room for one SCM_RIGHTS descriptor. It
// points into itself, so it is neither copied nor moved.
struct DescriptorMessage {
  char byte = 'f';
  iovec vector{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};

  DescriptorMessage() {
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
  }
  DescriptorMessage(const DescriptorMessage&) = delete;
  DescriptorMessage& operator=(const DescriptorMessage&) = delete;
};

void SendDescriptor(int sock, int fd) {
  DescriptorMessage sent;
  cmsghdr* header = CMSG_FIRSTHDR(&sent.message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
  if (sendmsg(sock, &sent.message, 0) != 1) Die("sendmsg");
}

int ReceiveDescriptor(int sock) {
  DescriptorMessage received;
  if (recvmsg(sock, &received.message, 0) != 1) Die("recvmsg");
  cmsghdr* header = CMSG_FIRSTHDR(&received.message);
  if (!header || header->cmsg_type != SCM_RIGHTS) {
    errno = EPROTO;
    Die("no descriptor received");
  }
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
  return fd;
}

void SendLine(int sock, const std::string& line) {
  if (write(sock, line.data(), line.size()) !=
      static_cast<ssize_t>(line.size()))
    Die("write status");
}

std::string ReceiveLine(int sock) {
  char buffer[256];
  const ssize_t got = read(sock, buffer, sizeof buffer);
  if (got < 0) Die("read status");
  return std::string(buffer, static_cast<size_t>(got));
}

// Writes `command` in one write() and describes the outcome.
std::string WriteCommand(int fd, const std::string& command) {
  const ssize_t written = write(fd, command.data(), command.size());
  if (written == static_cast<ssize_t>(command.size())) return "write ok";
  if (written < 0) {
    const int error = errno;
    return std::string("write errno ") + strerrorname_np(error) + " (" +
           std::strerror(error) + ")";
  }
  return "write short " + std::to_string(written);
}

std::string PrivsPath(const std::string& mount, pid_t pid) {
  return mount + "/" + std::to_string(pid) + "/privs";
}

int OpenForWriting(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY);
  if (fd < 0) Die("open " + path);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: fd_handoff user-opens|root-opens|user-both MOUNT UID "
                 "GID COMMAND\n";
    return 2;
  }
  const std::string mode = argv[1];
  const std::string mount = argv[2];
  const auto uid = static_cast<uid_t>(std::strtoul(argv[3], nullptr, 10));
  const auto gid = static_cast<gid_t>(std::strtoul(argv[4], nullptr, 10));
  const std::string command = argv[5];
  if (mode != "user-opens" && mode != "root-opens" && mode != "user-both") {
    std::cerr << "fd_handoff: unknown mode " << mode << "\n";
    return 2;
  }
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) Die("socketpair");
  std::cout.flush();
  const pid_t child = fork();
  if (child < 0) Die("fork");
  if (child == 0) {
    close(pair[0]);
    const int sock = pair[1];
    if (setgroups(0, nullptr) != 0 || setresgid(gid, gid, gid) != 0 ||
        setresuid(uid, uid, uid) != 0) {
      Die("drop to the test user");
    }
    const std::string path = PrivsPath(mount, getpid());
    if (mode == "user-opens") {
      const int fd = OpenForWriting(path);
      SendDescriptor(sock, fd);
      close(fd);
    } else if (mode == "root-opens") {
      SendLine(sock, "ready");
      const int fd = ReceiveDescriptor(sock);
      const std::string outcome = WriteCommand(fd, command);
      close(fd);
      SendLine(sock, outcome);
    } else {
      const int fd = OpenForWriting(path);
      const std::string outcome = WriteCommand(fd, command);
      close(fd);
      SendLine(sock, outcome);
    }
    // Stay alive, so the token is still there, until root has read it.
    ReceiveLine(sock);
    _exit(0);
  }
  close(pair[1]);
  const int sock = pair[0];
  const std::string path = PrivsPath(mount, child);
  std::string outcome;
  if (mode == "user-opens") {
    const int fd = ReceiveDescriptor(sock);
    outcome = WriteCommand(fd, command);
    close(fd);
  } else if (mode == "root-opens") {
    ReceiveLine(sock);  // the child has dropped to the test user
    const int fd = OpenForWriting(path);
    SendDescriptor(sock, fd);
    close(fd);
    outcome = ReceiveLine(sock);
  } else {
    outcome = ReceiveLine(sock);
  }
  std::cout << outcome << "\n";
  std::ifstream privs(path);
  if (!privs) Die("open " + path);
  std::string line;
  while (std::getline(privs, line)) std::cout << "privs " << line << "\n";
  SendLine(sock, "done");
  int status = 0;
  waitpid(child, &status, 0);
  return 0;
}
