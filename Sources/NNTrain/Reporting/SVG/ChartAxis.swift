import Foundation

/// How an axis maps values to positions.
public enum AxisScale: String, Equatable, Sendable, Codable {
    /// Position proportional to the value.
    case linear
    /// Position proportional to log₁₀ of the value; values ≤ 0 cannot be placed and are skipped.
    case log10
}

/// One axis of a chart panel: its title (with units, e.g. "accuracy (%)") and its scale.
public struct ChartAxis: Equatable, Sendable {
    public var title: String
    public var scale: AxisScale
    /// Ticks only at whole numbers (epochs): a linear step is never below 1.
    public var integerTicks: Bool
    /// A categorical axis: the value i (0, 1, …) is the category `categories[i]`, evenly spaced, each
    /// labelled by its name, half a step of margin at both ends (matplotlib's categorical units).
    /// The scale is then linear.
    public var categories: [String]?

    public init(title: String, scale: AxisScale = .linear, integerTicks: Bool = false, categories: [String]? = nil) {
        self.title = title
        self.scale = categories == nil ? scale : .linear
        self.integerTicks = integerTicks
        self.categories = categories
    }

    /// Whether `value` can be placed on this axis.
    func accepts(_ value: Double) -> Bool {
        value.isFinite && (scale == .linear || value > 0)
    }
}

/// The extent of an axis, widened to round tick values, and its labelled ticks.
///
/// Linear axes use the "nice numbers" of Heckbert ("Nice numbers for graph labels", Graphics Gems,
/// 1990) as matplotlib's MaxNLocator does with steps 1, 2, 5: the step is the smallest of
/// 1·10ᵏ, 2·10ᵏ, 5·10ᵏ, 10·10ᵏ at least (max − min)/5, and the axis runs from the multiple of the step
/// at or below the minimum to the one at or above the maximum (so about 5 intervals). Labels show
/// as many decimals as the step needs (`0.5`, `1.0`, `1.5`), or `%g` form (`2e-07`) when the step is
/// below 10⁻⁴ or the values reach 10⁶.
///
/// Log axes run over whole decades, from 10^⌊log₁₀ min⌋ to 10^⌈log₁₀ max⌉, with a labelled tick at
/// each decade (every second or third when there are more than 8), labelled in `%g` form like
/// Python's `'%g' % x`: `1e-05`, `0.0001`, `0.01`, `1`, `100`, `1e+06`; unlabelled minor ticks at
/// 2…9 × 10ᵏ when the axis spans at most 6 decades.
struct AxisLayout {
    /// The axis ends, in data units.
    var lower: Double
    var upper: Double
    var scale: AxisScale
    /// Labelled ticks, from lower to upper.
    var ticks: [Tick]
    /// Unlabelled minor ticks of a log axis.
    var minorTicks: [Double]

    struct Tick {
        var value: Double
        var label: String
    }
}

extension AxisLayout {

    /// The layout of an axis showing `values` (those the axis cannot place are ignored); with none,
    /// 0…1 on a linear axis and 1…10 on a log axis. Magnitudes are clamped to 10⁻³⁰⁰…10³⁰⁰, so the
    /// span and the step stay finite and non-zero for any input.
    init(values: [Double], axis: ChartAxis) {
        if let categories = axis.categories {
            // −½ … n − ½, a labelled tick at each category.
            let ticks = categories.enumerated().map { Tick(value: Double($0.offset), label: $0.element) }
            self = AxisLayout(lower: -0.5, upper: Double(max(categories.count, 1)) - 0.5, scale: .linear, ticks: ticks,
                              minorTicks: [])
            return
        }
        let placed = values.filter(axis.accepts).map { min(max($0, -1e300), 1e300) }
        switch axis.scale {
        case .linear:
            self = Self.linear(minimum: placed.min() ?? 0, maximum: placed.max() ?? 1, integer: axis.integerTicks)
        case .log10:
            self = Self.logarithmic(minimum: max(placed.min() ?? 1, 1e-300), maximum: placed.max() ?? 10)
        }
    }

    static func linear(minimum: Double, maximum: Double, integer: Bool) -> AxisLayout {
        var low = minimum, high = maximum
        if low == high {
            // One value: a span around it, so it sits inside the frame.
            let pad = integer || abs(low) < 1e-290 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
        }
        let rough = (high - low) / 5
        var exponent = Int(Foundation.floor(Foundation.log10(rough)))
        let normalised = rough / pow(10, Double(exponent))
        var multiple: Double
        switch normalised {
        case ...1: multiple = 1
        case ...2: multiple = 2
        case ...5: multiple = 5
        default:
            multiple = 1
            exponent += 1
        }
        if integer && exponent < 0 {
            multiple = 1
            exponent = 0
        }
        let step = multiple * pow(10, Double(exponent))
        // A relative slack of 10⁻⁹, so 5e-6 / 1e-6 = 5.000000000000001 does not add a tick.
        let first = Foundation.floor(low / step + 1e-9), last = Foundation.ceil(high / step - 1e-9)
        let count = Int(last - first)
        let values = (0...max(count, 1)).map { (first + Double($0)) * step + 0.0 }  // + 0.0 turns −0 into 0
        let largest = max(abs(values[0]), abs(values[values.count - 1]))
        let plain = exponent >= -4 && largest < 1e6
        let decimals = max(0, -exponent)
        let ticks = values.map { value in
            Tick(value: value, label: plain ? String(format: "%.\(decimals)f", value) : String(format: "%g", value))
        }
        return AxisLayout(lower: values[0], upper: values[values.count - 1], scale: .linear, ticks: ticks, minorTicks: [])
    }

    static func logarithmic(minimum: Double, maximum: Double) -> AxisLayout {
        var low = Int(Foundation.floor(Foundation.log10(minimum))), high = Int(Foundation.ceil(Foundation.log10(maximum)))
        if low == high {
            low -= 1
            high += 1
        }
        let decades = high - low
        let every = (decades + 7) / 8  // at most about 8 labels
        let ticks = stride(from: low, through: high, by: 1)
            .filter { ($0 - low) % every == 0 }
            .map { exponent in
                let value = pow(10, Double(exponent))
                return Tick(value: value, label: String(format: "%g", value))
            }
        let minor = decades > 6 ? [] : (low..<high).flatMap { exponent in
            (2...9).map { Double($0) * pow(10, Double(exponent)) }
        }
        return AxisLayout(lower: pow(10, Double(low)), upper: pow(10, Double(high)), scale: .log10,
                          ticks: ticks, minorTicks: minor)
    }

    /// Where `value` falls along the axis: 0 at `lower`, 1 at `upper`.
    func fraction(_ value: Double) -> Double {
        switch scale {
        case .linear: (value - lower) / (upper - lower)
        case .log10: (Foundation.log10(value) - Foundation.log10(lower)) / (Foundation.log10(upper) - Foundation.log10(lower))
        }
    }
}
