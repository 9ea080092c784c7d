// SPDX-License-Identifier: MIT
#include "providers/demo_topics.h"

#include "util/text.h"

namespace moa::providers {

const std::vector<DemoTopic>& demo_topics() {
    static const std::vector<DemoTopic> topics{
        {"mixtures of agents",
         {"agent", "mixture", "moa", "llm", "model", "aggregat", "layer", "proposer"},
         {"A mixture of agents answers a question with several language models instead of one.",
          "In the first layer, each proposer model writes its own answer to the question independently.",
          "The proposers run in parallel, so the layer takes about as long as its slowest model.",
          "In the next layer, each agent is sent the question together with all the answers of the layer before.",
          "Its instructions ask it to synthesize those answers into a single better one, not to copy any of them.",
          "Layers can be stacked, so later agents refine answers that were already refined.",
          "The last layer has a single aggregator, whose answer is the final result.",
          "Models often answer better when they can read other models' answers, even weaker ones.",
          "The price of that quality is more calls, more tokens and a longer wait before the final answer begins.",
          "Choosing diverse proposers often helps more than adding copies of the same model.",
          "Looking at what each layer kept from the one before shows how the synthesis actually worked."}},
        {"tides",
         {"tide", "moon", "ocean", "sea", "coast"},
         {"Tides are the slow rise and fall of the sea that most coasts see twice a day.",
          "They are driven mainly by the Moon's gravity, which pulls hardest on the side of the Earth facing it.",
          "A second bulge forms on the far side, where the Moon pulls on the ocean less than on the Earth itself.",
          "As the Earth turns through both bulges, a shore meets two high and two low tides in about a day and fifty minutes.",
          "The Sun adds a smaller pull of its own, a little under half as strong as the Moon's.",
          "When Sun and Moon line up, at new and full moon, their pulls add and the spring tides run highest.",
          "At the quarter moons they pull at right angles, and the weaker neap tides follow.",
          "The shape of the coast matters as much as the sky: a funnel-shaped bay can pile the water many metres high.",
          "Nearly enclosed seas, such as the Mediterranean, see tides of only a few centimetres.",
          "Tide tables add up dozens of regular cycles measured at each harbour over many years.",
          "Sailors, anglers and the engineers who build piers all plan their work around them."}},
        {"bread",
         {"bread", "yeast", "dough", "bake", "flour", "loaf"},
         {"Bread begins with flour, water, salt and a leavening agent, most often yeast.",
          "Mixing and kneading let two wheat proteins join into gluten, a stretchy network that traps gas.",
          "Yeast feeds on sugars in the flour and gives off carbon dioxide and a little alcohol.",
          "The gas inflates the gluten network, which is why a dough rises while it rests.",
          "A slow, cool rise gives the yeast and bacteria time to build more flavour.",
          "Shaping tightens the outer skin of the loaf so that it holds its form in the oven.",
          "In the first minutes of baking the gas expands quickly and the loaf springs up.",
          "Steam in the oven keeps the crust soft long enough for that spring to happen.",
          "Above about seventy degrees Celsius the starches set and the crumb becomes firm.",
          "The brown crust and its roasted smell come from reactions between sugars and proteins in the heat.",
          "Letting the loaf cool before cutting allows the crumb to finish setting."}},
        {"honey bees",
         {"bee", "honey", "hive", "pollen", "nectar", "flower"},
         {"Honey bees make honey from nectar, the sugary liquid that flowers offer to attract pollinators.",
          "A forager sucks up nectar and carries it back to the hive in a special stomach called the crop.",
          "On the way, enzymes from her glands start to split the nectar's sucrose into simpler sugars.",
          "In the hive, worker bees pass the nectar from mouth to mouth and add more enzymes.",
          "They spread it thinly in wax cells and fan it with their wings to drive off water.",
          "When the water content falls below about a fifth, the bees cap the cell with fresh wax.",
          "The result is so concentrated and slightly acidic that few microbes can grow in it.",
          "A strong colony can store far more honey than it needs to survive the winter.",
          "Foragers tell their sisters where good flowers are with a waggle dance.",
          "The angle of the dance gives the direction relative to the Sun, and its length gives the distance.",
          "While visiting flowers, bees carry pollen between them, which lets many crops set fruit."}},
    };
    return topics;
}

const DemoTopic& demo_topic_for(const std::string& prompt, unsigned long long hash) {
    const auto& all = demo_topics();
    const std::string p = text::to_lower(prompt);
    std::size_t best = all.size(), best_hits = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        std::size_t hits = 0;
        for (const char* k : all[i].keywords)
            for (auto at = p.find(k); at != std::string::npos; at = p.find(k, at + 1)) ++hits;
        if (hits > best_hits) {
            best = i;
            best_hits = hits;
        }
    }
    return all[best < all.size() ? best : hash % all.size()];
}

} // namespace moa::providers
