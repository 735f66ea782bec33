// Placeholder: its owner replaces this header.
#ifndef TOKENFS_CORE_MINTING_POLICY_H_
#define TOKENFS_CORE_MINTING_POLICY_H_
#endif  // TOKENFS_CORE_MINTING_POLICY_H_
