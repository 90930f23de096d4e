# Every dependency comes from a Debian package via find_package; nothing is downloaded.
find_package(OpenCV 4.5 REQUIRED COMPONENTS core imgproc imgcodecs dnn objdetect quality ml)
find_package(Boost 1.74 REQUIRED)  # header-only: Boost.Math distributions
find_package(ONNX REQUIRED)
find_package(Protobuf REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(fmt REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(TBB REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
find_package(Threads REQUIRED)
# OpenBLAS (Debian's libopenblas-dev) for SER-FIQ's product: it chooses AVX2/AVX-512 kernels at
# run time, so the portable build gets the speed of -march=native for it.
set(BLA_VENDOR OpenBLAS)
find_package(BLAS REQUIRED)
find_package(JPEG REQUIRED)  # libjpeg-dev: the check for damaged JPEG data
