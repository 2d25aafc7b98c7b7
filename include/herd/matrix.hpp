#pragma once
// herd::matrix: embeddings as rows x dim floats in one contiguous buffer,
// row i belonging to input i.

#include <cstddef>
#include <span>
#include <stdexcept>
#include <vector>

namespace herd {

class matrix {
public:
    matrix() = default;
    matrix(std::size_t rows, std::size_t dim) : rows_(rows), dim_(dim), data_(rows * dim) {}

    std::size_t rows() const noexcept { return rows_; }
    std::size_t dim() const noexcept { return dim_; }
    bool empty() const noexcept { return rows_ == 0; }

    std::span<float> row(std::size_t i) noexcept { return {data_.data() + i * dim_, dim_}; }
    std::span<const float> row(std::size_t i) const noexcept { return {data_.data() + i * dim_, dim_}; }
    std::span<const float> operator[](std::size_t i) const noexcept { return row(i); }

    float* data() noexcept { return data_.data(); }
    const float* data() const noexcept { return data_.data(); }

    /// Row i as its own vector.
    std::vector<float> copy_row(std::size_t i) const { return {row(i).begin(), row(i).end()}; }

    /// Appends one row; the first row fixes dim. Throws std::length_error
    /// on a row of another size.
    void push_row(std::span<const float> values) {
        if (rows_ == 0 && dim_ == 0) dim_ = values.size();
        if (values.size() != dim_) throw std::length_error("embedding dimension differs from earlier rows");
        data_.insert(data_.end(), values.begin(), values.end());
        ++rows_;
    }

    /// Sets the shape before the first row when it is known (no effect
    /// otherwise); lets a decoder reserve.
    void reserve(std::size_t rows, std::size_t dim) {
        if (rows_ == 0 && dim_ == 0) dim_ = dim;
        data_.reserve(rows * dim);
    }

    /// The buffer, rows() x dim() floats row after row, moved out (no
    /// copy: a one-row matrix hands over its row); the matrix is left empty.
    std::vector<float> release() noexcept {
        rows_ = dim_ = 0;
        return std::move(data_);
    }

    /// Used by decoders that write values straight into the buffer.
    std::vector<float>& storage() noexcept { return data_; }
    void set_shape(std::size_t rows, std::size_t dim) noexcept {
        rows_ = rows;
        dim_ = dim;
    }

private:
    std::size_t rows_ = 0;
    std::size_t dim_ = 0;
    std::vector<float> data_;
};

} // namespace herd
