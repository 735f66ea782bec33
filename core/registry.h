// Placeholder: its owner replaces this header.
#ifndef TOKENFS_CORE_REGISTRY_H_
#define TOKENFS_CORE_REGISTRY_H_
#endif  // TOKENFS_CORE_REGISTRY_H_
