// SmallVector<T, N>: a std::vector-like sequence that keeps up to N elements inside the object
// and moves to the heap only beyond that. Shapes and strides (xf::Dims, shape.hpp) and the
// primitives' tensor specs use it, so describing a tensor of rank <= 6 allocates nothing.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace xf {

template <class T, size_t N>
class SmallVector {
  static_assert(N > 0, "a SmallVector keeps at least one element inline");
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "over-aligned elements are not supported");

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
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;
  static constexpr size_t inline_capacity = N;

  SmallVector() noexcept = default;
  explicit SmallVector(size_type n) { resize(n); }
  SmallVector(size_type n, const T& v) { assign(n, v); }
  template <class It, std::enable_if_t<!std::is_integral_v<It>, int> = 0>
  SmallVector(It first, It last) {
    assign(first, last);
  }
  SmallVector(std::initializer_list<T> il) { assign(il.begin(), il.end()); }
  SmallVector(const SmallVector& o) { copy_from(o); }
  SmallVector(SmallVector&& o) noexcept(std::is_nothrow_move_constructible_v<T>) { take(o); }
  ~SmallVector() {
    clear();
    release();
  }

  SmallVector& operator=(const SmallVector& o) {
    if (this != &o) copy_from(o);
    return *this;
  }
  SmallVector& operator=(SmallVector&& o) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &o) {
      clear();
      release();
      take(o);
    }
    return *this;
  }
  SmallVector& operator=(std::initializer_list<T> il) {
    assign(il.begin(), il.end());
    return *this;
  }

  void assign(size_type n, const T& v) {
    if (n > capacity()) {
      T copy(v);  // v may be an element of this vector
      clear();
      grow(n);
      for (size_type i = 0; i < n; ++i) push_back(copy);
      return;
    }
    // Assign over the live elements, construct or destroy the rest (v may be an element).
    size_type live = std::min<size_type>(n, size_);
    T copy(v);
    for (size_type i = 0; i < live; ++i) ptr_[i] = copy;
    while (size_ < n) push_back(copy);
    while (size_ > n) pop_back();
  }
  template <class It, std::enable_if_t<!std::is_integral_v<It>, int> = 0>
  void assign(It first, It last) {
    clear();
    if constexpr (std::is_base_of_v<std::forward_iterator_tag, typename std::iterator_traits<It>::iterator_category>)
      reserve(static_cast<size_type>(std::distance(first, last)));
    for (; first != last; ++first) emplace_back(*first);
  }
  void assign(std::initializer_list<T> il) { assign(il.begin(), il.end()); }

  T* data() noexcept { return ptr_; }
  const T* data() const noexcept { return ptr_; }
  size_type size() const noexcept { return size_; }
  size_type capacity() const noexcept { return cap_; }
  bool empty() const noexcept { return size_ == 0; }
  size_type max_size() const noexcept { return UINT32_MAX; }

  iterator begin() noexcept { return ptr_; }
  iterator end() noexcept { return ptr_ + size_; }
  const_iterator begin() const noexcept { return ptr_; }
  const_iterator end() const noexcept { return ptr_ + size_; }
  const_iterator cbegin() const noexcept { return ptr_; }
  const_iterator cend() const noexcept { return ptr_ + size_; }
  reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const noexcept { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const noexcept { return const_reverse_iterator(begin()); }
  const_reverse_iterator crbegin() const noexcept { return rbegin(); }
  const_reverse_iterator crend() const noexcept { return rend(); }

  T& operator[](size_type i) { return ptr_[i]; }
  const T& operator[](size_type i) const { return ptr_[i]; }
  T& at(size_type i) {
    if (i >= size_) throw std::out_of_range("SmallVector::at");
    return ptr_[i];
  }
  const T& at(size_type i) const {
    if (i >= size_) throw std::out_of_range("SmallVector::at");
    return ptr_[i];
  }
  T& front() { return ptr_[0]; }
  const T& front() const { return ptr_[0]; }
  T& back() { return ptr_[size_ - 1]; }
  const T& back() const { return ptr_[size_ - 1]; }

  void push_back(const T& v) { emplace_back(v); }
  void push_back(T&& v) { emplace_back(std::move(v)); }
  template <class... A>
  T& emplace_back(A&&... args) {
    if (size_ == cap_) {
      T tmp(std::forward<A>(args)...);  // the arguments may refer to an element of this vector
      grow(next_capacity(size_ + 1));
      new (ptr_ + size_) T(std::move(tmp));
    } else {
      new (ptr_ + size_) T(std::forward<A>(args)...);
    }
    return ptr_[size_++];
  }
  void pop_back() { ptr_[--size_].~T(); }

  void reserve(size_type n) {
    if (n > cap_) grow(n);
  }
  void shrink_to_fit() {}
  void resize(size_type n) {
    reserve(n);
    while (size_ < n) emplace_back();
    while (size_ > n) pop_back();
  }
  void resize(size_type n, const T& v) {
    if (n > size_) {
      T copy(v);
      reserve(n);
      while (size_ < n) push_back(copy);
    }
    while (size_ > n) pop_back();
  }
  void clear() noexcept {
    if constexpr (!std::is_trivially_destructible_v<T>)
      for (size_type i = 0; i < size_; ++i) ptr_[i].~T();
    size_ = 0;
  }

  iterator insert(const_iterator pos, const T& v) { return emplace(pos, v); }
  iterator insert(const_iterator pos, T&& v) { return emplace(pos, std::move(v)); }
  iterator insert(const_iterator pos, size_type n, const T& v) {
    size_type at_ = index_of(pos);
    size_type old = size_;
    T copy(v);
    reserve(size_ + n);
    for (size_type i = 0; i < n; ++i) push_back(copy);
    std::rotate(ptr_ + at_, ptr_ + old, ptr_ + size_);
    return ptr_ + at_;
  }
  template <class It, std::enable_if_t<!std::is_integral_v<It>, int> = 0>
  iterator insert(const_iterator pos, It first, It last) {
    size_type at_ = index_of(pos);
    size_type old = size_;
    SmallVector tmp(first, last);  // the range may be part of this vector
    reserve(size_ + tmp.size());
    for (T& e : tmp) push_back(std::move(e));
    std::rotate(ptr_ + at_, ptr_ + old, ptr_ + size_);
    return ptr_ + at_;
  }
  iterator insert(const_iterator pos, std::initializer_list<T> il) { return insert(pos, il.begin(), il.end()); }
  template <class... A>
  iterator emplace(const_iterator pos, A&&... args) {
    size_type at_ = index_of(pos);
    emplace_back(std::forward<A>(args)...);
    std::rotate(ptr_ + at_, ptr_ + size_ - 1, ptr_ + size_);
    return ptr_ + at_;
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    size_type b = index_of(first), e = index_of(last);
    if (b == e) return ptr_ + b;
    std::move(ptr_ + e, ptr_ + size_, ptr_ + b);
    size_type n = e - b;
    for (size_type i = 0; i < n; ++i) pop_back();
    return ptr_ + b;
  }

  void swap(SmallVector& o) {
    SmallVector tmp(std::move(o));
    o = std::move(*this);
    *this = std::move(tmp);
  }
  friend void swap(SmallVector& a, SmallVector& b) { a.swap(b); }

 private:
  T* inline_data() noexcept { return reinterpret_cast<T*>(inline_); }
  bool on_heap() const noexcept { return ptr_ != reinterpret_cast<const T*>(inline_); }
  size_type index_of(const_iterator p) const noexcept { return static_cast<size_type>(p - ptr_); }
  size_type next_capacity(size_type need) const noexcept { return std::max<size_type>(need, 2 * size_type{cap_}); }

  // Moves the elements to a heap block of n >= size() elements.
  void grow(size_type n) {
    if (n > max_size()) throw std::length_error("SmallVector: too many elements");
    T* p = static_cast<T*>(::operator new(n * sizeof(T)));
    for (size_type i = 0; i < size_; ++i) {
      new (p + i) T(std::move(ptr_[i]));
      ptr_[i].~T();
    }
    release();
    ptr_ = p;
    cap_ = static_cast<uint32_t>(n);
  }
  // Frees a heap block (elements already destroyed) and points back at the inline storage.
  void release() noexcept {
    if (on_heap()) ::operator delete(ptr_);
    ptr_ = inline_data();
    cap_ = N;
  }
  // Copies o's elements. Trivially copyable elements that fit inline are copied as the whole
  // inline block (a fixed-size copy, no loop): every SmallVector's storage holds >= N elements.
  void copy_from(const SmallVector& o) {
    if constexpr (std::is_trivially_copyable_v<T>) {
      if (o.size_ <= N) {
        release();
        std::memcpy(inline_, static_cast<const void*>(o.ptr_), sizeof(inline_));
        size_ = o.size_;
        return;
      }
    }
    assign(o.begin(), o.end());
  }
  // Takes o's elements (o is left empty); this vector is empty and inline.
  void take(SmallVector& o) {
    if (o.on_heap()) {
      ptr_ = o.ptr_;
      size_ = o.size_;
      cap_ = o.cap_;
      o.ptr_ = o.inline_data();
      o.size_ = 0;
      o.cap_ = N;
      return;
    }
    if constexpr (std::is_trivially_copyable_v<T>) {
      std::memcpy(inline_, o.inline_, sizeof(inline_));
      size_ = o.size_;
      o.size_ = 0;
      return;
    }
    for (size_type i = 0; i < o.size_; ++i) new (ptr_ + i) T(std::move(o.ptr_[i]));
    size_ = o.size_;
    o.clear();
  }

  T* ptr_ = inline_data();
  uint32_t size_ = 0;
  uint32_t cap_ = N;
  alignas(T) unsigned char inline_[N * sizeof(T)];
};

template <class T, size_t N>
bool operator==(const SmallVector<T, N>& a, const SmallVector<T, N>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}
template <class T, size_t N>
bool operator!=(const SmallVector<T, N>& a, const SmallVector<T, N>& b) {
  return !(a == b);
}
template <class T, size_t N>
bool operator<(const SmallVector<T, N>& a, const SmallVector<T, N>& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace xf
