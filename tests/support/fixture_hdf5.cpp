#include "fixture_hdf5.h"

#include <hdf5.h>

#include <stdexcept>

namespace qs::test {
namespace {

hid_t makeType(const std::string& t) {
    if (t == "f32")
        return H5Tcopy(H5T_IEEE_F32LE);
    if (t == "f32be")
        return H5Tcopy(H5T_IEEE_F32BE);
    if (t == "f64")
        return H5Tcopy(H5T_IEEE_F64LE);
    if (t == "i16")
        return H5Tcopy(H5T_STD_I16LE);
    if (t == "u8")
        return H5Tcopy(H5T_STD_U8LE);
    if (t == "f16") { // IEEE half as h5py writes it
        hid_t h = H5Tcopy(H5T_IEEE_F32LE);
        H5Tset_fields(h, 15, 10, 5, 0, 10);
        H5Tset_size(h, 2);
        H5Tset_ebias(h, 15);
        return h;
    }
    throw std::runtime_error("unknown fixture type " + t);
}

} // namespace

void writeHdf5(const std::string& path, const std::vector<Hdf5Dataset>& datasets,
               const std::vector<std::pair<std::string, std::string>>& rootStringAttributes) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        throw std::runtime_error("cannot create " + path);
    for (const auto& d : datasets) {
        std::vector<hsize_t> dims(d.dims.begin(), d.dims.end());
        hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        if (d.chunkedGzip) {
            H5Pset_chunk(dcpl, static_cast<int>(dims.size()), dims.data());
            H5Pset_deflate(dcpl, 6);
        }
        if (d.type == "str") {
            hid_t st = H5Tcopy(H5T_C_S1);
            H5Tset_size(st, 8);
            hid_t ds = H5Dcreate2(f, d.path.c_str(), st, space, lcpl, dcpl, H5P_DEFAULT);
            std::string text(8 * d.values.size(), 'x');
            H5Dwrite(ds, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, text.data());
            H5Dclose(ds);
            H5Tclose(st);
        } else {
            hid_t type = makeType(d.type);
            hid_t ds = H5Dcreate2(f, d.path.c_str(), type, space, lcpl, dcpl, H5P_DEFAULT);
            if (ds < 0)
                throw std::runtime_error("cannot create dataset " + d.path);
            H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.values.data());
            H5Dclose(ds);
            H5Tclose(type);
        }
        H5Pclose(dcpl);
        H5Sclose(space);
    }
    for (const auto& [key, value] : rootStringAttributes) {
        hid_t st = H5Tcopy(H5T_C_S1);
        H5Tset_size(st, value.size() + 1);
        hid_t space = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(f, key.c_str(), st, space, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, st, value.c_str());
        H5Aclose(a);
        H5Sclose(space);
        H5Tclose(st);
    }
    H5Fclose(f);
    H5Pclose(lcpl);
}

} // namespace qs::test
