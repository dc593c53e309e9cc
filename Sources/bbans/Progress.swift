import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A progress bar on standard error, drawn only when it is a terminal (and not with -q):
///
///     compressing train.idx [##########··········]  50%  8,120 images/s  0:06 left
///
/// It moves with the images coded, not the chunks: the library reports each step of each chunk
/// (`add`, from the threads that code them) as well as each chunk written (`update`, which also
/// gives the total, and for images is called first with none done). Opaque data (zstd) moves
/// by the chunk, in bytes. Redrawn at most ten
/// times a second.
final class Progress: @unchecked Sendable {
  let label: String
  let enabled: Bool
  private let lock = NSLock()
  private let start = now()
  private var written = 0
  private var total = 0
  private var imagesCoded = 0
  private var countsImages = false
  private var lastDrawn = -1.0
  private var drawn = false

  init(_ label: String, enabled: Bool) {
    self.label = label.count > 32 ? "…" + label.suffix(31) : label
    self.enabled = enabled
  }

  /// After each chunk: the images (or bytes) written so far, and their total.
  func update(_ done: Int, _ total: Int) {
    guard enabled else { return }
    lock.lock()
    defer { lock.unlock() }
    // The library counts images from (0, total) on, before the first chunk; bytes from the
    // first chunk on.
    if done == 0 { countsImages = true }
    written = done
    self.total = total
    draw()
  }

  /// Images coded since the last call, by one of the threads that code the chunks.
  @Sendable func add(_ images: Int) {
    guard enabled else { return }
    lock.lock()
    defer { lock.unlock() }
    imagesCoded += images
    draw()
  }

  /// Clears the line, so that what follows starts on a clean one.
  func finish() {
    guard enabled else { return }
    lock.lock()
    defer { lock.unlock() }
    if drawn { writeStandardError("\r\u{1B}[K") }
    drawn = false
  }

  /// Draws the bar, unless it was drawn less than 0.1 s ago (the caller holds the lock).
  private func draw() {
    let time = now()
    guard total > 0, time - lastDrawn >= 0.1 else { return }
    lastDrawn = time
    drawn = true
    let done = min(total, max(written, imagesCoded))
    let fraction = Double(done) / Double(total)
    let width = 20
    let filled = Int(fraction * Double(width))
    var text = "\r\(label) [\(String(repeating: "#", count: filled))\(String(repeating: "·", count: width - filled))]"
    text += String(format: " %3d%%", Int(fraction * 100))
    let elapsed = time - start
    if elapsed >= 0.5 && done > 0 {
      let rate = Double(done) / elapsed
      text += countsImages || imagesCoded > 0 ? "  \(grouped(Int(rate))) images/s" : String(format: "  %.1f MB/s", rate / 1e6)
      let left = Double(total - done) / rate
      text += "  \(clock(left)) left"
    }
    writeStandardError(text + "\u{1B}[K")
  }

  /// "0:06", "1:02:03".
  private func clock(_ seconds: Double) -> String {
    let whole = Int(seconds.rounded(.up))
    if whole >= 3600 { return String(format: "%d:%02d:%02d", whole / 3600, whole / 60 % 60, whole % 60) }
    return String(format: "%d:%02d", whole / 60, whole % 60)
  }
}

/// 12345 as "12,345".
func grouped(_ value: Int) -> String {
  let digits = String(value)
  var out = ""
  for (i, digit) in digits.enumerated() {
    if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
    out.append(digit)
  }
  return out
}
