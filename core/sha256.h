// Placeholder: its owner replaces this header.
#ifndef TOKENFS_CORE_SHA256_H_
#define TOKENFS_CORE_SHA256_H_
#endif  // TOKENFS_CORE_SHA256_H_
