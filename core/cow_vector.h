// CowVector<T>: a std::vector<T> whose copies share one buffer until one of
// them is changed (copy on write).
//
// Why: a forked process's token is a copy of its parent's, and most of a
// token (its groups, its ACLs, its capabilities) never changes afterwards.
// With plain vectors each of 10,000 processes carried its own copy of the
// same few kilobytes; with CowVector a copy costs one reference count.
//
// Semantics are a value's, exactly as std::vector's: a copy never sees a
// later change to the original, and equality compares elements. Reading
// (const access) never copies. Any non-const access (a non-const begin(),
// operator[], data(), or a modifier) first makes this object's buffer its own
// when it is shared, so a non-const iterator or reference stays valid only
// until this object is next copied; take them from a const object when only
// reading. An empty CowVector holds no buffer.
//
// Thread-safety: like std::vector, one object must not be used from two
// threads while one of them changes it; distinct objects that share a buffer
// may be read and changed from different threads (the shared buffer itself
// is never written while shared).
#ifndef TOKENFS_CORE_COW_VECTOR_H_
#define TOKENFS_CORE_COW_VECTOR_H_

#include <atomic>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

namespace tokenfs {

template <typename T>
class CowVector {
 public:
  using value_type = T;
  using size_type = size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using iterator = T*;
  using const_iterator = const T*;

  CowVector() = default;
  CowVector(std::vector<T> items) { Adopt(std::move(items)); }  // NOLINT
  CowVector(std::initializer_list<T> items)
      : CowVector(std::vector<T>(items)) {}
  template <typename It>
  CowVector(It first, It last) : CowVector(std::vector<T>(first, last)) {}
  CowVector(size_type count, const T& value)
      : CowVector(std::vector<T>(count, value)) {}

  CowVector& operator=(std::vector<T> items) {
    Adopt(std::move(items));
    return *this;
  }
  CowVector& operator=(std::initializer_list<T> items) {
    return *this = std::vector<T>(items);
  }

  // The elements as a vector (a shared empty one when there are none).
  const std::vector<T>& vector() const { return items_ ? *items_ : Empty(); }
  operator const std::vector<T>&() const { return vector(); }  // NOLINT

  size_type size() const { return items_ ? items_->size() : 0; }
  bool empty() const { return size() == 0; }
  size_type capacity() const { return items_ ? items_->capacity() : 0; }

  const T* data() const { return items_ ? items_->data() : nullptr; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size(); }
  const T* cbegin() const { return begin(); }
  const T* cend() const { return end(); }
  const T& operator[](size_type index) const { return (*items_)[index]; }
  const T& at(size_type index) const { return vector().at(index); }
  const T& front() const { return items_->front(); }
  const T& back() const { return items_->back(); }

  // The elements as a vector this object owns alone, to change in place.
  // Element access is otherwise const only, so that reading a non-const
  // object (a range-for over a token's groups) never copies a buffer.
  std::vector<T>& Mutable() { return Own(); }

  void push_back(const T& item) { Own().push_back(item); }
  void push_back(T&& item) { Own().push_back(std::move(item)); }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    return Own().emplace_back(std::forward<Args>(args)...);
  }
  void pop_back() { Own().pop_back(); }
  void clear() { items_.reset(); }
  void reserve(size_type count) { Own().reserve(count); }
  void resize(size_type count) { Own().resize(count); }
  void resize(size_type count, const T& value) { Own().resize(count, value); }
  template <typename... Args>
  void assign(Args&&... args) {
    std::vector<T> items;
    items.assign(std::forward<Args>(args)...);
    Adopt(std::move(items));
  }

  // Positions may come from the const or the non-const interface of this
  // object (they are turned into indexes before the buffer is made own).
  T* insert(const T* position, const T& item) {
    const auto index = Index(position);
    auto& items = Own();
    return items.data() + (items.insert(items.begin() + index, item) -
                           items.begin());
  }
  T* insert(const T* position, T&& item) {
    const auto index = Index(position);
    auto& items = Own();
    return items.data() + (items.insert(items.begin() + index,
                                        std::move(item)) -
                           items.begin());
  }
  template <typename It>
  T* insert(const T* position, It first, It last) {
    const auto index = Index(position);
    auto& items = Own();
    items.insert(items.begin() + index, first, last);
    return items.data() + index;
  }
  T* erase(const T* position) { return erase(position, position + 1); }
  T* erase(const T* first, const T* last) {
    const auto from = Index(first);
    const auto to = Index(last);
    auto& items = Own();
    items.erase(items.begin() + from, items.begin() + to);
    return items.data() + from;
  }

  // True when this object and `other` share one buffer (for tests).
  bool SharesWith(const CowVector& other) const {
    return items_ != nullptr && items_ == other.items_;
  }

  friend bool operator==(const CowVector& a, const CowVector& b) {
    return a.items_ == b.items_ || a.vector() == b.vector();
  }
  friend bool operator==(const CowVector& a, const std::vector<T>& b) {
    return a.vector() == b;
  }

 private:
  static const std::vector<T>& Empty() {
    static const std::vector<T> empty;
    return empty;
  }
  difference_type Index(const T* position) const {
    return position == nullptr ? 0 : position - data();
  }
  void Adopt(std::vector<T> items) {
    if (items.empty()) {
      items_.reset();
    } else {
      items.shrink_to_fit();
      items_ = std::make_shared<std::vector<T>>(std::move(items));
    }
  }
  std::vector<T>& Own() {
    if (!items_) {
      items_ = std::make_shared<std::vector<T>>();
    } else if (items_.use_count() > 1) {
      items_ = std::make_shared<std::vector<T>>(*items_);
    } else {
      // The last other owner may have released the buffer on another
      // thread just now: order its reads before our writes.
      std::atomic_thread_fence(std::memory_order_acquire);
    }
    return *items_;
  }

  std::shared_ptr<std::vector<T>> items_;
};

}  // namespace tokenfs

#endif  // TOKENFS_CORE_COW_VECTOR_H_
