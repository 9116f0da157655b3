<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>CostPanel</name>
    <message numerus="yes">
        <source>today, %n answer(s)</source>
        <translation>
            <numerusform>today, %n answer</numerusform>
            <numerusform>today, %n answers</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>total of %n day(s)</source>
        <translation>
            <numerusform>total of %n day</numerusform>
            <numerusform>total of %n days</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>HealthPanel</name>
    <message numerus="yes">
        <source>document(s)</source>
        <translation>
            <numerusform>document</numerusform>
            <numerusform>documents</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>chunk(s)</source>
        <translation>
            <numerusform>chunk</numerusform>
            <numerusform>chunks</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>answer(s) today</source>
        <translation>
            <numerusform>answer today</numerusform>
            <numerusform>answers today</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ImportView</name>
    <message numerus="yes">
        <source>about %n min left</source>
        <translation>
            <numerusform>about %n min left</numerusform>
            <numerusform>about %n min left</numerusform>
        </translation>
    </message>
</context>
</TS>
