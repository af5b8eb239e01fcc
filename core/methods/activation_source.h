#pragma once
// Input activations for the layers of a whole checkpoint, as `analyze --calib` and the GUI's
// sweep use them: one loaded [tokens, in_features] matrix, given for every layer (analyzeTensor
// reports no output error where its width does not fit, and calibrated methods say why), or
// synthetic activations (calibration.h) generated for each layer's in_features. forFeatures() is
// thread-safe once prepare() has run for every width it will be asked for (synthetic ones are
// generated there); a width not prepared gets nothing rather than a race. Move-only.

#include "methods/calibration.h"
#include "methods/imatrix_file.h"
#include "quant/registry.h"
#include "util/result.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace qs {

struct TensorInfo;

class ActivationSource {
public:
    static ActivationSource synthetic(const SyntheticCalibration& spec, std::string label);
    static ActivationSource loaded(std::vector<float> values, std::int64_t tokens,
                                   std::int64_t features, std::string label);
    // A llama.cpp importance matrix in place of activations: no matrices (forFeatures() is
    // null), each tensor's entry by name (imatrix()).
    static ActivationSource importance(ImatrixFile file);

    // Generates the synthetic activations for these widths (nothing for a loaded matrix).
    void prepare(const std::vector<std::int64_t>& features);
    // prepare() for the input widths of these tensors as the quantizers see them (matrixView's
    // columns: all but the first dimension).
    void prepareFor(std::span<const TensorInfo* const> tensors);
    // The activations for a layer of `features` input columns: the loaded matrix whatever its
    // width, or the synthetic ones prepared for that width (null if not prepared).
    const MatrixView* forFeatures(std::int64_t features) const;
    const std::string& label() const { return m_label; }
    const std::optional<SyntheticCalibration>& syntheticSpec() const { return m_synthetic; }
    std::int64_t tokens() const;                                   // rows of every matrix it gives
    std::int64_t loadedFeatures() const { return m_loaded.cols; }  // 0 for synthetic ones
    const ImatrixFile* imatrix() const { return m_imatrix.get(); } // null unless importance()

private:
    struct Matrix {
        std::vector<float> values;
        MatrixView view;
    };
    std::string m_label;
    std::optional<SyntheticCalibration> m_synthetic;
    std::vector<float> m_values; // the loaded matrix
    MatrixView m_loaded;
    std::map<std::int64_t, std::unique_ptr<Matrix>> m_generated; // by features
    std::shared_ptr<const ImatrixFile> m_imatrix;
};

// [tokens, in_features] activations from a file in any supported format: the tensor named
// `tensor`, else the file's only two-dimensional one; or, with no tensor named, a llama.cpp
// importance matrix (imatrix.gguf, imatrix.dat) as importance(). Errors name the file and what
// is wrong.
Result<ActivationSource> loadActivationSource(const std::string& path,
                                              const std::string& tensor = {});

} // namespace qs
