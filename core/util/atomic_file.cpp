#include "util/atomic_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace qs {

Status writeFileAtomically(const std::string& path,
                           const std::function<Status(std::ostream&)>& write) {
    const std::string tmp = path + ".tmp-quantscope";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f)
            return makeError("cannot write " + tmp + ": " + std::strerror(errno));
        Status st = write(f);
        if (st.ok())
            f.flush();
        if (!st.ok() || !f) {
            f.close();
            std::remove(tmp.c_str());
            if (!st.ok())
                return st;
            return makeError("error while writing " + tmp + " (disk full?)");
        }
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        return makeError("cannot move the output into place at " + path + ": " + ec.message());
    }
    return Ok{};
}

Status writeTextAtomically(const std::string& path, const std::string& text) {
    return writeFileAtomically(path, [&](std::ostream& out) -> Status {
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        return Ok{};
    });
}

Status refuseOverwritingInputs(const std::string& output, const std::vector<std::string>& inputs) {
    std::error_code ec;
    const fs::path out = fs::weakly_canonical(fs::path(output), ec);
    if (ec)
        return Ok{}; // the parent does not exist; the write itself will say so
    for (const std::string& in : inputs) {
        std::error_code ec2;
        const fs::path inPath = fs::weakly_canonical(fs::path(in), ec2);
        if (ec2)
            continue;
        if (out == inPath || (fs::exists(out) && fs::equivalent(out, inPath, ec2)))
            return makeError("refusing to overwrite the input " + in + "; choose another output");
        if (fs::is_directory(inPath, ec2)) {
            const auto rel = out.lexically_relative(inPath);
            if (!rel.empty() && *rel.begin() != ".." && fs::exists(out))
                return makeError("refusing to overwrite " + output + " inside the input folder " +
                                 in + "; choose another output");
        }
    }
    return Ok{};
}

} // namespace qs
