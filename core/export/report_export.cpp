#include "export/report_export.h"

#include "analysis/tensor_analysis.h"
#include "util/atomic_file.h"
#include "util/csv.h"

#include <hdf5.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <map>
#include <memory>

namespace qs {
namespace {

using ojson = nlohmann::ordered_json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kGenerator = "quantscope 0.1.0";

struct Row {
    std::string tensor, shape, scheme, error;
    double mse = kNaN, rmse = kNaN, relRmse = kNaN, sqnrDb = kNaN, maxAbsErr = kNaN, cosine = kNaN,
           bpw = kNaN;
    std::uint64_t bytes = 0;
};

struct Metric {
    const char* name;
    const char* description;
    double Row::*field;
};
constexpr Metric kMetrics[] = {
    {"mse", "mean squared error of the reconstruction", &Row::mse},
    {"rmse", "root mean squared error", &Row::rmse},
    {"rel_rmse", "RMSE over the RMS of the weights", &Row::relRmse},
    {"sqnr_db", "signal-to-quantization-noise ratio in dB", &Row::sqnrDb},
    {"max_abs_err", "largest absolute error", &Row::maxAbsErr},
    {"cosine", "cosine similarity of original and reconstruction", &Row::cosine},
    {"bits_per_weight", "storage bits per weight: codes, scales, zero-points, second-level scales",
     &Row::bpw},
};

std::string isoNow() {
    const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    char buf[32];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string num(double v) {
    if (!std::isfinite(v))
        return std::isnan(v) ? "" : (v > 0 ? "inf" : "-inf");
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

ojson jnum(double v) {
    return std::isfinite(v) ? ojson(v) : ojson(nullptr);
}

template <herr_t (*Close)(hid_t)> struct H5 {
    hid_t id;
    explicit H5(hid_t i) : id(i) {}
    ~H5() {
        if (id >= 0)
            Close(id);
    }
    H5(const H5&) = delete;
    H5& operator=(const H5&) = delete;
};

void stringAttr(hid_t obj, const char* name, const std::string& value) {
    H5<H5Tclose> type(H5Tcopy(H5T_C_S1));
    H5Tset_size(type.id, value.size() + 1);
    H5<H5Sclose> space(H5Screate(H5S_SCALAR));
    H5<H5Aclose> a(H5Acreate2(obj, name, type.id, space.id, H5P_DEFAULT, H5P_DEFAULT));
    H5Awrite(a.id, type.id, value.c_str());
}

Result<std::vector<std::byte>> hdf5Image(const std::vector<Row>& rows,
                                         const std::map<std::string, std::string>& attrs) {
    H5<H5Pclose> fapl(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_fapl_core(fapl.id, 1 << 20, 0); // in memory, no backing store
    H5<H5Fclose> f(H5Fcreate("quantscope-report.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id));
    if (f.id < 0)
        return makeError("HDF5: cannot create the report in memory");
    for (const auto& [k, v] : attrs)
        stringAttr(f.id, k.c_str(), v);
    const hsize_t n = rows.size();
    H5<H5Sclose> space(H5Screate_simple(1, &n, nullptr));
    for (const Metric& m : kMetrics) {
        std::vector<double> v;
        for (const Row& r : rows)
            v.push_back(r.*m.field);
        H5<H5Dclose> d(H5Dcreate2(f.id, m.name, H5T_IEEE_F64LE, space.id, H5P_DEFAULT, H5P_DEFAULT,
                                  H5P_DEFAULT));
        H5Dwrite(d.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
        stringAttr(d.id, "description", m.description);
    }
    {
        std::vector<std::uint64_t> v;
        for (const Row& r : rows)
            v.push_back(r.bytes);
        H5<H5Dclose> d(H5Dcreate2(f.id, "bytes", H5T_STD_U64LE, space.id, H5P_DEFAULT, H5P_DEFAULT,
                                  H5P_DEFAULT));
        H5Dwrite(d.id, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
        stringAttr(d.id, "description", "storage bytes of the quantized tensor");
    }
    const std::pair<const char*, std::string Row::*> strings[] = {{"tensor", &Row::tensor},
                                                                  {"scheme", &Row::scheme},
                                                                  {"shape", &Row::shape},
                                                                  {"error", &Row::error}};
    H5<H5Tclose> vstr(H5Tcopy(H5T_C_S1));
    H5Tset_size(vstr.id, H5T_VARIABLE);
    H5Tset_cset(vstr.id, H5T_CSET_UTF8);
    for (const auto& [name, field] : strings) {
        std::vector<const char*> v;
        for (const Row& r : rows)
            v.push_back((r.*field).c_str());
        H5<H5Dclose> d(
            H5Dcreate2(f.id, name, vstr.id, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        H5Dwrite(d.id, vstr.id, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
        stringAttr(d.id, "description",
                   std::string(name) == "error" ? "why a row has no metrics (empty when it has)"
                                                : std::string("the row's ") + name);
    }
    H5Fflush(f.id, H5F_SCOPE_GLOBAL);
    const ssize_t size = H5Fget_file_image(f.id, nullptr, 0);
    if (size <= 0)
        return makeError("HDF5: cannot read back the report image");
    std::vector<std::byte> image(static_cast<std::size_t>(size));
    H5Fget_file_image(f.id, image.data(), image.size());
    return image;
}

} // namespace

Result<ReportExport> exportReport(const ExportSelection& sel, const std::string& outPath,
                                  const ProgressFn& progress) {
    const std::string ext = outPath.substr(std::min(outPath.size(), outPath.rfind('.')));
    if (ext != ".csv" && ext != ".json" && ext != ".h5" && ext != ".hdf5")
        return makeError("report: the output's extension chooses the format: .csv, .json, .h5 "
                         "or .hdf5 (not '" +
                         outPath + "')");
    const Checkpoint& ckpt = *sel.checkpoint;
    std::vector<Row> rows;
    std::map<std::string, std::pair<ErrorMetrics, StorageCost>> totals;
    std::vector<std::string> schemeOrder;
    std::size_t done = 0;
    for (const ExportTensor& t : sel.tensors) {
        ++done;
        if (!t.scheme)
            continue;
        if (!reportProgress(progress, static_cast<double>(done) / sel.tensors.size()))
            return cancelledError();
        Row r{t.tensor->name, t.tensor->shapeString(), t.scheme->toString()};
        auto values = ckpt.readFloat(*t.tensor);
        if (!values)
            return values.error();
        auto a = analyzeTensor(matrixView(*t.tensor, *values), *t.scheme);
        if (!a) {
            r.error = a.message();
        } else {
            const auto& m = a->error;
            r.mse = m.mse();
            r.rmse = m.rmse();
            r.relRmse = m.relRmse();
            r.sqnrDb = m.sqnrDb();
            r.maxAbsErr = m.maxAbsErr;
            r.cosine = m.cosine();
            r.bpw = a->cost.bitsPerWeight();
            r.bytes = a->cost.bytes();
            auto& tot = totals[r.scheme];
            if (tot.second.elements == 0 && tot.first.count == 0)
                schemeOrder.push_back(r.scheme);
            tot.first.merge(m);
            tot.second.merge(a->cost);
        }
        rows.push_back(std::move(r));
    }
    ReportExport report;
    report.rows = rows.size();
    std::string schemes;
    for (const auto& g : sel.groups())
        schemes += (schemes.empty() ? "" : ",") + g.scheme.toString();
    const std::map<std::string, std::string> attrs{{"source", ckpt.path()},
                                                   {"generator", kGenerator},
                                                   {"created", isoNow()},
                                                   {"schemes", schemes},
                                                   {"plan", sel.fromPlan ? "yes" : "no"}};
    for (const Row& r : rows)
        if (!r.error.empty())
            report.warnings.push_back("no metrics: " + r.tensor + " under " + r.scheme + ": " +
                                      r.error);

    if (ext == ".h5" || ext == ".hdf5") {
        auto image = hdf5Image(rows, attrs);
        if (!image)
            return image.error();
        auto st = writeFileAtomically(outPath, [&](std::ostream& out) -> Status {
            out.write(reinterpret_cast<const char*>(image->data()),
                      static_cast<std::streamsize>(image->size()));
            return Ok{};
        });
        if (!st)
            return st.error();
        return report;
    }
    std::string text;
    if (ext == ".csv") {
        text = "tensor,shape,scheme";
        for (const Metric& m : kMetrics)
            text += std::string(",") + m.name;
        text += ",bytes,error\n";
        for (const Row& r : rows) {
            text += csvField(r.tensor) + "," + csvField(r.shape) + "," + csvField(r.scheme);
            for (const Metric& m : kMetrics)
                text += "," + num(r.*m.field);
            text += "," + (r.error.empty() ? std::to_string(r.bytes) : std::string()) + "," +
                    csvField(r.error) + "\n";
        }
    } else {
        ojson j;
        for (const auto& [k, v] : attrs)
            j[k] = v;
        ojson results = ojson::array(), tot = ojson::array();
        for (const Row& r : rows) {
            ojson x = {{"name", r.tensor}, {"shape", r.shape}, {"scheme", r.scheme}};
            if (!r.error.empty()) {
                x["error"] = r.error;
            } else {
                for (const Metric& m : kMetrics)
                    x[m.name] = jnum(r.*m.field);
                x["bytes"] = r.bytes;
            }
            results.push_back(x);
        }
        for (const auto& s : schemeOrder) {
            const auto& [e, c] = totals[s];
            tot.push_back({{"scheme", s},
                           {"bits_per_weight", c.bitsPerWeight()},
                           {"bytes", c.bytes()},
                           {"rel_rmse", jnum(e.relRmse())},
                           {"sqnr_db", jnum(e.sqnrDb())}});
        }
        j["results"] = results;
        j["totals"] = tot;
        text = j.dump(2) + "\n";
    }
    if (auto st = writeTextAtomically(outPath, text); !st)
        return st.error();
    return report;
}

} // namespace qs
