import BitsBack

/// IDX files (MNIST's format, possibly gzipped): the reader either throws or gives images and a
/// layout that rebuild the input byte for byte.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  guard let (images, layout) = try? DatasetFile.parse(bytes, as: .idx), layout.isReproducible else { return 0 }
  guard (try? DatasetFile.rebuild(images, layout: layout)) == bytes else {
    fatalError("IDX: \(size) bytes parse but do not rebuild to themselves")
  }
  return 0
}
